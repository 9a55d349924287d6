#include "tests/voice/audit_rows.h"

#include <sqlite3.h>

namespace parley::testing {

std::vector<std::array<std::string, 4>> AuditRows(const std::string& database) {
  std::vector<std::array<std::string, 4>> rows;
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(database.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    return rows;
  }
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, "SELECT * FROM audit_log ORDER BY 1", -1, &stmt, nullptr) ==
      SQLITE_OK) {
    const int columns = sqlite3_column_count(stmt);
    while (sqlite3_step(stmt) == SQLITE_ROW) {
      std::array<std::string, 4> row;
      for (int c = 0; c < columns; ++c) {
        const std::string name = sqlite3_column_name(stmt, c);
        const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, c));
        const std::string value = text ? text : "";
        if (name == "actor") row[0] = value;
        if (name == "action") row[1] = value;
        if (name == "target") row[2] = value;
        if (name == "outcome") row[3] = value == "0" ? "ok" : value == "1" ? "denied" : "failed";
      }
      rows.push_back(row);
    }
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return rows;
}

}  // namespace parley::testing
