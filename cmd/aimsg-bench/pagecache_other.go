//go:build !linux

package main

// dropFromPageCache is Linux only (see pagecache_linux.go).
func dropFromPageCache(string) error { return nil }
