package api

// DispatchQueue is how many messages of one shard wait for their dispatch.
const DispatchQueue = dispatchPerShard
