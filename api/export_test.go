package api

// HandoverQueue is how many messages of one shard wait for their hand-over.
const HandoverQueue = handoverPerShard
