//go:build !race

package api_test

import "github.com/aimsg/aimsg/auth"

// testBcryptCost is the cost the tests hash passwords at unless they name
// one: the least a deployment may use (see bcrypt_race_test.go for the
// race detector's).
const testBcryptCost = auth.MinBcryptCost
