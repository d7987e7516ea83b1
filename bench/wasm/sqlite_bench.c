/* SQLite (the real library, compiled from its amalgamation next to this
 * file) on an in-memory database: a transaction of inserts, an index, and
 * aggregate queries. Built only when bench/fetch_sqlite.sh found the
 * amalgamation. The checksum combines the query results. */
#include "kernel_timer.h"
#include "sqlite3.h"

static sqlite3* db;

static uint64_t scalar(const char* sql) {
  sqlite3_stmt* st;
  uint64_t v = 0;
  if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
    v = (uint64_t)sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  return v;
}

static uint64_t work(void) {
  sqlite3_open(":memory:", &db);
  sqlite3_exec(db, "CREATE TABLE t(id INTEGER PRIMARY KEY, k INTEGER, s TEXT)", 0, 0, 0);
  sqlite3_exec(db, "BEGIN", 0, 0, 0);
  sqlite3_stmt* ins;
  sqlite3_prepare_v2(db, "INSERT INTO t(k, s) VALUES(?, ?)", -1, &ins, NULL);
  char text[32];
  for (int i = 0; i < 40000; ++i) {
    sqlite3_bind_int(ins, 1, (i * 7919) % 1000);
    snprintf(text, sizeof text, "row-%d", i * 31 % 9973);
    sqlite3_bind_text(ins, 2, text, -1, SQLITE_TRANSIENT);
    sqlite3_step(ins);
    sqlite3_reset(ins);
  }
  sqlite3_finalize(ins);
  sqlite3_exec(db, "COMMIT", 0, 0, 0);
  sqlite3_exec(db, "CREATE INDEX tk ON t(k)", 0, 0, 0);
  uint64_t check = scalar("SELECT SUM(k) FROM t WHERE k BETWEEN 100 AND 700");
  check = check * 31 + scalar("SELECT COUNT(DISTINCT s) FROM t");
  check = check * 31 + scalar("SELECT MAX(LENGTH(s)) FROM t GROUP BY k ORDER BY 1 DESC LIMIT 1");
  sqlite3_close(db);
  return check;
}

int main(int argc, char** argv) { return kernel_main(argc, argv, work, 5); }
