package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"

	"github.com/switchboard/switchboard/config"
	"github.com/switchboard/switchboard/store"
)

// sharedKeyBytes is the length of a key sharedKey makes.
const sharedKeyBytes = 32

// sharedKey returns a random key of sharedKeyBytes: kept in the data
// directory's file, or on PostgreSQL shared by the nodes in the
// database under name (the first node's, its file's if it ran alone
// before), so that what one node signs every node verifies.
func sharedKey(ctx context.Context, cfg *config.Config, db *store.DB, file, name string) ([]byte, error) {
	path := filepath.Join(cfg.DataDir, file)
	if cfg.Store.Driver != config.DriverPostgres {
		return secretFile(path, sharedKeyBytes)
	}
	enc, err := db.Secret(ctx, name, func() (string, error) {
		b, err := os.ReadFile(path) // a node that ran alone before
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return "", err
		}
		if len(b) < sharedKeyBytes {
			b = make([]byte, sharedKeyBytes)
			if _, err := rand.Read(b); err != nil {
				return "", err
			}
		}
		return base64.StdEncoding.EncodeToString(b), nil
	})
	if err != nil {
		return nil, err
	}
	return base64.StdEncoding.DecodeString(enc)
}
