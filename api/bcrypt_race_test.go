//go:build race

package api_test

import "golang.org/x/crypto/bcrypt"

// testBcryptCost is the cost the tests hash passwords at unless they name
// one. Under the race detector, bcrypt's least: the detector needs the
// requests to run concurrently, not slowly, and a hash at cost 10 takes it
// about a second (see bcrypt_norace_test.go for the others).
const testBcryptCost = bcrypt.MinCost
