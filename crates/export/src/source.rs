//! Reading users from a Django database (SQLite, PostgreSQL, MySQL/MariaDB).
//!
//! Every text column (and the primary key, an integer or a UUID) is selected
//! as bytes and every flag as a 64-bit integer, in each dialect's own SQL,
//! so one decoding path serves all three and a damaged value (invalid UTF-8,
//! a NULL where Django never writes one) is a per-row problem for the
//! report, never an aborted read. Rows are lent
//! to the caller, never copied: a column is a slice of the driver's buffer.

use std::collections::HashMap;
use std::path::PathBuf;

use futures_util::TryStreamExt as _;
use sqlx::Row as _;
use sqlx::mysql::{MySqlPool, MySqlPoolOptions, MySqlRow};
use sqlx::postgres::{PgPool, PgPoolOptions, PgRow};

use djedge_snapshot::UserId;

use crate::ExportError;

/// Where the users live: table and column names, with Django's defaults.
/// A column a custom user model does not have is `None`: its names are then
/// empty, its `is_active` true, its `is_staff` and `is_superuser` false, and
/// without a groups table nobody is in a group.
#[derive(Clone, Debug)]
pub struct UserTable {
    /// The user table (`auth_user`).
    pub table: String,
    /// Its primary key (`id`): an integer or a UUID.
    pub id_column: String,
    /// The column login matches exactly (`username`; `email` for many custom models).
    pub username_column: String,
    /// The email column (`email`).
    pub email_column: String,
    /// `first_name`.
    pub first_name_column: Option<String>,
    /// `last_name`.
    pub last_name_column: Option<String>,
    /// `is_active`.
    pub is_active_column: Option<String>,
    /// `is_staff`.
    pub is_staff_column: Option<String>,
    /// `is_superuser`.
    pub is_superuser_column: Option<String>,
    /// `date_joined`.
    pub date_joined_column: String,
    /// `password`.
    pub password_column: String,
    /// `last_login` (`None`: never logged in, as far as the export can say).
    pub last_login_column: Option<String>,
    /// The user-group link table (`auth_user_groups`).
    pub groups_table: Option<String>,
    /// Its column naming the user (`user_id`).
    pub groups_user_column: String,
    /// django-allauth's table of email addresses (`account_emailaddress`:
    /// `user_id`, `email`, `verified`), read when the database has it, so a
    /// user's `email_verified` is what the site verified.
    pub email_addresses_table: Option<String>,
}

impl Default for UserTable {
    fn default() -> Self {
        UserTable {
            table: "auth_user".into(),
            id_column: "id".into(),
            username_column: "username".into(),
            email_column: "email".into(),
            first_name_column: Some("first_name".into()),
            last_name_column: Some("last_name".into()),
            is_active_column: Some("is_active".into()),
            is_staff_column: Some("is_staff".into()),
            is_superuser_column: Some("is_superuser".into()),
            date_joined_column: "date_joined".into(),
            password_column: "password".into(),
            last_login_column: Some("last_login".into()),
            groups_table: Some("auth_user_groups".into()),
            groups_user_column: "user_id".into(),
            email_addresses_table: Some("account_emailaddress".into()),
        }
    }
}

impl UserTable {
    fn names(&self) -> impl Iterator<Item = &String> {
        [
            &self.table,
            &self.id_column,
            &self.username_column,
            &self.email_column,
            &self.date_joined_column,
            &self.password_column,
            &self.groups_user_column,
        ]
        .into_iter()
        .chain(
            [
                &self.first_name_column,
                &self.last_name_column,
                &self.is_active_column,
                &self.is_staff_column,
                &self.is_superuser_column,
                &self.last_login_column,
                &self.groups_table,
                &self.email_addresses_table,
            ]
            .into_iter()
            .flatten(),
        )
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Dialect {
    Sqlite,
    Postgres,
    MySql,
}

/// One user row as read: bytes and integers, not yet trusted, borrowed from
/// the driver.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct RawUser<'a> {
    /// The primary key as text: an integer or a UUID.
    pub id: Option<&'a [u8]>,
    pub username: Option<&'a [u8]>,
    pub email: Option<&'a [u8]>,
    pub first_name: Option<&'a [u8]>,
    pub last_name: Option<&'a [u8]>,
    pub password: Option<&'a [u8]>,
    pub is_active: Option<i64>,
    pub is_staff: Option<i64>,
    pub is_superuser: Option<i64>,
    pub date_joined: Option<&'a [u8]>,
    pub last_login: Option<&'a [u8]>,
}

/// SQLite through rusqlite, on the calling thread: sqlx runs SQLite on a
/// worker thread and hands over every row through a channel, and the thread
/// switches were a third of the export's time (perf, `benches/export_bench.sh`).
/// PostgreSQL and MySQL through sqlx's own drivers, whose rows decode in place.
enum Pool {
    Sqlite(PathBuf),
    Postgres(PgPool),
    MySql(MySqlPool),
}

/// Streams `sql`'s rows into `$each`, whichever database: one body, checked
/// against each row type.
macro_rules! for_each_row {
    ($source:expr, $sql:expr, |$row:ident| $each:expr) => {
        match &$source.pool {
            Pool::Sqlite(path) => {
                let conn = open_sqlite(path)?;
                let mut statement = conn.prepare(&$sql).map_err(sqlite_error)?;
                let mut rows = statement.query([]).map_err(sqlite_error)?;
                while let Some($row) = rows.next().map_err(sqlite_error)? {
                    $each
                }
            }
            Pool::Postgres(pool) => {
                let mut rows = sqlx::query(audited($sql)).fetch(pool);
                while let Some(ref $row) = rows.try_next().await.map_err(query_error)? {
                    $each
                }
            }
            Pool::MySql(pool) => {
                let mut rows = sqlx::query(audited($sql)).fetch(pool);
                while let Some(ref $row) = rows.try_next().await.map_err(query_error)? {
                    $each
                }
            }
        }
    };
}

/// An open Django database.
pub(crate) struct Source {
    pool: Pool,
    table: UserTable,
}

impl Source {
    /// Opens `url` (`sqlite:///abs/path`, `sqlite://rel/path`,
    /// `postgres://…`, `mysql://…`); SQLite files are opened read-only.
    pub(crate) async fn open(url: &str, table: UserTable) -> Result<Self, ExportError> {
        for name in table.names() {
            check_identifier(name)?;
        }
        let connect_error = |e: sqlx::Error| ExportError::Database(format!("could not connect: {e}"));
        if let Some(path) = url.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err(ExportError::Database("the SQLite URL names no file".into()));
            }
            let path = PathBuf::from(path);
            if !path.is_file() {
                return Err(ExportError::Database(format!("there is no SQLite database at {}", path.display())));
            }
            open_sqlite(&path)?;
            return Ok(Source { pool: Pool::Sqlite(path), table });
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let pool = PgPoolOptions::new().max_connections(1).connect(url).await.map_err(connect_error)?;
            Ok(Source { pool: Pool::Postgres(pool), table })
        } else if url.starts_with("mysql://") || url.starts_with("mariadb://") {
            let url = url.replacen("mariadb://", "mysql://", 1);
            let pool = MySqlPoolOptions::new().max_connections(1).connect(&url).await.map_err(connect_error)?;
            Ok(Source { pool: Pool::MySql(pool), table })
        } else {
            Err(ExportError::Database("the database URL must start with sqlite://, postgres:// or mysql://".into()))
        }
    }

    fn dialect(&self) -> Dialect {
        match self.pool {
            Pool::Sqlite(_) => Dialect::Sqlite,
            Pool::Postgres(_) => Dialect::Postgres,
            Pool::MySql(_) => Dialect::MySql,
        }
    }

    /// How many rows the user table has (for progress).
    pub(crate) async fn count(&self) -> Result<u64, ExportError> {
        let sql = format!("SELECT {} FROM {}", self.int("COUNT(*)"), self.quote(&self.table.table));
        let mut count = None;
        for_each_row!(self, sql.clone(), |row| count = row.int(0).and_then(|n| u64::try_from(n).ok()));
        count.ok_or_else(|| ExportError::Database(format!("{sql} gave no row count")))
    }

    /// Group names by user id.
    pub(crate) async fn groups(&self) -> Result<HashMap<UserId, Vec<Vec<u8>>>, ExportError> {
        let mut groups: HashMap<UserId, Vec<Vec<u8>>> = HashMap::new();
        let Some(groups_table) = &self.table.groups_table else { return Ok(groups) };
        let sql = format!(
            "SELECT {}, {} FROM {} ug JOIN auth_group g ON g.id = ug.group_id",
            self.key(&format!("ug.{}", self.quote(&self.table.groups_user_column))),
            self.bytes("g.name"),
            self.quote(groups_table),
        );
        for_each_row!(self, sql, |row| if let (Ok(id), Some(name)) =
            (crate::record::user_id(row.bytes(0)), row.bytes(1))
        {
            groups.entry(id).or_default().push(name.to_vec());
        });
        for names in groups.values_mut() {
            names.sort();
        }
        Ok(groups)
    }

    /// Every (id, email, username), for finding what users share (a row
    /// whose id cannot be read is left to [`Source::users`] to report).
    pub(crate) async fn identities(&self, mut each: impl FnMut(UserId, &[u8], &[u8])) -> Result<(), ExportError> {
        let sql = format!(
            "SELECT {}, {}, {} FROM {}",
            self.key(&self.quote(&self.table.id_column)),
            self.bytes(&self.quote(&self.table.email_column)),
            self.bytes(&self.quote(&self.table.username_column)),
            self.quote(&self.table.table)
        );
        for_each_row!(self, sql, |row| if let Ok(id) = crate::record::user_id(row.bytes(0)) {
            each(id, row.bytes(1).unwrap_or_default(), row.bytes(2).unwrap_or_default());
        });
        Ok(())
    }

    /// Every verified (user id, email) of django-allauth's table; `None`
    /// when the database has no such table (the site does not record
    /// verification).
    pub(crate) async fn verified_emails(&self, mut each: impl FnMut(UserId, &[u8])) -> Result<Option<()>, ExportError> {
        let Some(table) = &self.table.email_addresses_table else { return Ok(None) };
        if !self.has_table(table).await? {
            return Ok(None);
        }
        let sql = format!(
            "SELECT {}, {}, {} FROM {}",
            self.key("user_id"),
            self.bytes("email"),
            self.boolean("verified"),
            self.quote(table)
        );
        for_each_row!(self, sql, |row| if let (Ok(id), Some(email), Some(1)) =
            (crate::record::user_id(row.bytes(0)), row.bytes(1), row.int(2))
        {
            each(id, email);
        });
        Ok(Some(()))
    }

    /// Whether the database has `table` (a name [`check_identifier`] passed,
    /// so it may stand in the SQL as a literal).
    async fn has_table(&self, table: &str) -> Result<bool, ExportError> {
        let sql = match self.dialect() {
            Dialect::Sqlite => format!("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '{table}'"),
            Dialect::Postgres => format!(
                "SELECT CAST(COUNT(*) AS BIGINT) FROM information_schema.tables \
                 WHERE table_schema = current_schema() AND table_name = '{table}'"
            ),
            Dialect::MySql => format!(
                "SELECT CAST(COUNT(*) AS SIGNED) FROM information_schema.tables \
                 WHERE table_schema = DATABASE() AND table_name = '{table}'"
            ),
        };
        let mut found = false;
        for_each_row!(self, sql, |row| found = row.int(0).is_some_and(|n| n > 0));
        Ok(found)
    }

    /// Streams every user row, in [`UserId`]'s order of the primary key
    /// (the order a delta merges in). The order names the table's column: a
    /// bare `id` would name the cast output column, and PostgreSQL would sort
    /// a million rows on disk instead of walking the primary key's index.
    pub(crate) async fn users(
        &self,
        mut each: impl FnMut(&RawUser<'_>) -> Result<(), ExportError>,
    ) -> Result<(), ExportError> {
        let mut order = format!("u.{}", self.quote(&self.table.id_column));
        if self.dialect() == Dialect::MySql && !self.integer_keys().await? {
            // MariaDB's uuid type sorts by its own rearrangement of the
            // bytes; the text's bytes sort as UserId does.
            order = self.key(&order);
        }
        let q = |c: &str| self.quote(c);
        let text = |column: &Option<String>| column.as_deref().map_or_else(|| self.bytes("''"), |c| self.bytes(&q(c)));
        let flag = |column: &Option<String>, absent: u8| {
            column.as_deref().map_or_else(|| self.int(&absent.to_string()), |c| self.boolean(&q(c)))
        };
        let t = &self.table;
        let sql = format!(
            "SELECT {id}, {username}, {email}, {first}, {last}, {password}, {active}, {staff}, {superuser}, {joined}, {login} FROM {table} u ORDER BY {order}",
            id = self.key(&q(&t.id_column)),
            username = self.bytes(&q(&t.username_column)),
            email = self.bytes(&q(&t.email_column)),
            first = text(&t.first_name_column),
            last = text(&t.last_name_column),
            password = self.bytes(&q(&t.password_column)),
            active = flag(&t.is_active_column, 1),
            staff = flag(&t.is_staff_column, 0),
            superuser = flag(&t.is_superuser_column, 0),
            joined = self.timestamp(&q(&t.date_joined_column)),
            login = t.last_login_column.as_deref().map_or_else(|| "NULL".to_string(), |c| self.timestamp(&q(c))),
            table = q(&t.table),
        );
        for_each_row!(self, sql, |row| each(&raw_user(row))?);
        Ok(())
    }

    /// Whether the primary key is an integer (or the table is empty), from
    /// its first row.
    async fn integer_keys(&self) -> Result<bool, ExportError> {
        let t = &self.table;
        let sql = format!("SELECT {} FROM {} LIMIT 1", self.key(&self.quote(&t.id_column)), self.quote(&t.table));
        let mut integer = true;
        for_each_row!(self, sql, |row| integer =
            matches!(crate::record::user_id(row.bytes(0)), Ok(UserId::Integer(_))));
        Ok(integer)
    }

    fn quote(&self, identifier: &str) -> String {
        match self.dialect() {
            Dialect::MySql => format!("`{identifier}`"),
            Dialect::Sqlite | Dialect::Postgres => format!("\"{identifier}\""),
        }
    }

    fn bytes(&self, expr: &str) -> String {
        match self.dialect() {
            Dialect::Sqlite => format!("CAST({expr} AS BLOB)"),
            // Text arrives as its UTF-8 bytes (see `Columns`); `convert_to`
            // looked the encoding up by name for every value, a fifth of the
            // server's time.
            Dialect::Postgres => format!("({expr})::text"),
            Dialect::MySql => format!("CAST({expr} AS BINARY)"),
        }
    }

    /// A primary key (an integer or a UUID) as its text's bytes.
    fn key(&self, column: &str) -> String {
        match self.dialect() {
            // MariaDB's own uuid type casts to its 16 raw bytes, to text first.
            Dialect::MySql => self.bytes(&format!("CAST({column} AS CHAR)")),
            Dialect::Sqlite | Dialect::Postgres => self.bytes(column),
        }
    }

    fn int(&self, expr: &str) -> String {
        match self.dialect() {
            Dialect::Postgres => format!("CAST({expr} AS BIGINT)"),
            Dialect::Sqlite => format!("CAST({expr} AS INTEGER)"),
            Dialect::MySql => format!("CAST({expr} AS SIGNED)"),
        }
    }

    /// A Django BooleanField as 0 or 1 (NULL stays NULL).
    fn boolean(&self, column: &str) -> String {
        match self.dialect() {
            // PostgreSQL's boolean casts to integer, not straight to bigint.
            Dialect::Postgres => format!("CAST(CAST({column} AS INTEGER) AS BIGINT)"),
            Dialect::Sqlite | Dialect::MySql => self.int(column),
        }
    }

    /// A timestamp as `YYYY-MM-DD HH:MM:SS[.ffffff]` text in UTC (Django
    /// stores UTC when `USE_TZ` is on), as bytes.
    fn timestamp(&self, column: &str) -> String {
        match self.dialect() {
            Dialect::Sqlite => self.bytes(column),
            Dialect::Postgres => {
                self.bytes(&format!("to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')"))
            }
            Dialect::MySql => self.bytes(&format!("DATE_FORMAT({column}, '%Y-%m-%d %H:%i:%s.%f')")),
        }
    }
}

/// A row of any of the three drivers; every column we select is a 64-bit
/// integer or bytes. A value of another type reads as missing (NULL), which
/// the row's validation reports.
trait Columns {
    fn int(&self, i: usize) -> Option<i64>;
    fn bytes(&self, i: usize) -> Option<&[u8]>;
}

impl Columns for rusqlite::Row<'_> {
    fn int(&self, i: usize) -> Option<i64> {
        self.get_ref(i).ok().and_then(|v| v.as_i64_or_null().ok().flatten())
    }
    fn bytes(&self, i: usize) -> Option<&[u8]> {
        self.get_ref(i).ok().and_then(|v| v.as_blob_or_null().ok().flatten())
    }
}

/// sqlx's rows. A text column's value is its bytes on the wire, so it is
/// read unchecked as bytes: invalid UTF-8 is then the row's problem, not a
/// decoding error. Our SQL makes every such column text or bytes.
macro_rules! sqlx_columns {
    ($row:ty) => {
        impl Columns for $row {
            fn int(&self, i: usize) -> Option<i64> {
                self.try_get::<Option<i64>, _>(i).ok().flatten()
            }
            fn bytes(&self, i: usize) -> Option<&[u8]> {
                self.try_get_unchecked::<Option<&[u8]>, _>(i).ok().flatten()
            }
        }
    };
}
sqlx_columns!(PgRow);
sqlx_columns!(MySqlRow);

fn raw_user(row: &impl Columns) -> RawUser<'_> {
    RawUser {
        id: row.bytes(0),
        username: row.bytes(1),
        email: row.bytes(2),
        first_name: row.bytes(3),
        last_name: row.bytes(4),
        password: row.bytes(5),
        is_active: row.int(6),
        is_staff: row.int(7),
        is_superuser: row.int(8),
        date_joined: row.bytes(9),
        last_login: row.bytes(10),
    }
}

fn open_sqlite(path: &std::path::Path) -> Result<rusqlite::Connection, ExportError> {
    let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = rusqlite::Connection::open_with_flags(path, flags)
        .map_err(|e| ExportError::Database(format!("could not open {}: {e}", path.display())))?;
    // SQLite reads a quoted name that is no column as a string literal: a
    // misspelt --email-column would give every user that text as an email.
    // With this off, it is the error it should be.
    conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_DQS_DML, false).map_err(sqlite_error)?;
    Ok(conn)
}

fn sqlite_error(e: rusqlite::Error) -> ExportError {
    ExportError::Database(format!("reading the users failed: {e}"))
}

fn check_identifier(name: &str) -> Result<(), ExportError> {
    let mut chars = name.chars();
    let ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok { Ok(()) } else { Err(ExportError::Options(format!("{name:?} is not a plain SQL table or column name"))) }
}

/// The dynamic parts of our SQL are table and column names that
/// `check_identifier` allowed (plain `[A-Za-z_][A-Za-z0-9_]*`) and `quote`
/// quoted; no value from the database or the user is ever spliced in.
fn audited(sql: String) -> sqlx::AssertSqlSafe<String> {
    sqlx::AssertSqlSafe(sql)
}

fn query_error(e: sqlx::Error) -> ExportError {
    ExportError::Database(format!("reading the users failed: {e}"))
}
