package mongostore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"syscall"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/topology"

	"github.com/runnable/runnable/domain"
)

// errUnavailable is the public message of a store outage.
const msgUnavailable = "service unavailable"

// translate turns a driver error into a domain error kind. notFound is
// returned for mongo.ErrNoDocuments, conflict for a duplicate key (both may
// be nil to keep the driver error wrapped). op names the operation in the
// logged chain.
func translate(err error, op string, notFound, conflict error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, mongo.ErrNoDocuments) && notFound != nil:
		return notFound
	case isDuplicate(err) && conflict != nil:
		return conflict
	case isUnavailable(err):
		return domain.Wrap(domain.ErrUnavailable, msgUnavailable, fmt.Errorf("mongostore: %s: %w", op, err))
	case errors.Is(err, context.Canceled):
		return fmt.Errorf("mongostore: %s: %w", op, err)
	}
	return fmt.Errorf("mongostore: %s: %w", op, err)
}

// isDuplicate reports a unique index violation. MongoDB answers code 11000;
// FerretDB v1 over SQLite does so on inserts but answers an InternalError
// naming the SQLite constraint on updates.
func isDuplicate(err error) bool {
	if mongo.IsDuplicateKeyError(err) {
		return true
	}
	var se mongo.ServerError
	return errors.As(err, &se) && strings.Contains(se.Error(), "UNIQUE constraint failed")
}

// isUnavailable reports that the server could not be reached or did not
// answer in time.
func isUnavailable(err error) bool {
	var sel topology.ServerSelectionError
	return mongo.IsTimeout(err) ||
		mongo.IsNetworkError(err) ||
		errors.As(err, &sel) ||
		errors.Is(err, mongo.ErrClientDisconnected) ||
		errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNRESET)
}
