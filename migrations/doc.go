// Package migrations will hold the SQL migrations, one folder per dialect
// (postgres/, sqlite/), embedded and applied at start-up and by
// `switchboard migrate`. They arrive with the inbox store; the realtime
// core keeps no state on disk.
package migrations
