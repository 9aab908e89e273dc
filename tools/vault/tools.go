//go:build tools

// Package tools pins Vault's main package so that `go mod tidy` records every
// module it needs in go.sum.
package tools

import (
	_ "github.com/hashicorp/vault"
)
