// Package migrations embeds the numbered SQL migrations of each database
// dialect. The store applies them with goose at every start; each file runs in
// one transaction, and a file once released is never edited, only followed.
package migrations

import "embed"

// FS holds postgres/NNNN_name.sql and sqlite/NNNN_name.sql.
//
//go:embed postgres/*.sql sqlite/*.sql
var FS embed.FS
