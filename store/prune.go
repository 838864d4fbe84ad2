package store

import (
	"context"
	"fmt"
)

// defaultPruneBatch is how many rows one statement of a prune deletes.
const defaultPruneBatch = 1000

// deleteBatched deletes the rows of table that where selects (over
// args), db.pruneBatch at a time, each batch its own write transaction,
// until none is left; it returns how many it deleted. A prune that
// deleted days of history in one statement would hold the writer for
// its whole length: on SQLite the router's commits wait behind it (one
// writer), and on PostgreSQL the leader's lease renewals do (the fence
// locks the lease row for every write transaction), long enough to lose
// the lease. table and where are the caller's constants, never input.
func (db *DB) deleteBatched(ctx context.Context, table, where string, args ...any) (int64, error) {
	query := batchDeleteSQL(db.dialect, table, where, db.pruneBatch)
	var total int64
	for {
		res, err := db.execWrite(ctx, query, args...)
		if err != nil {
			return total, err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, err
		}
		total += n
		if n < int64(db.pruneBatch) {
			return total, nil
		}
	}
}

// batchDeleteSQL deletes at most n rows of table that where selects.
func batchDeleteSQL(d dialect, table, where string, n int) string {
	return rebind(d, fmt.Sprintf(`DELETE FROM %[1]s WHERE %[2]s IN (SELECT %[2]s FROM %[1]s WHERE %[3]s LIMIT %[4]d)`,
		table, d.rowID, where, n))
}
