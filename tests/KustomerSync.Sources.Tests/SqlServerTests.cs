using System.Data;
using System.Data.Common;
using System.Net;
using KustomerSync.Engine.Sources;
using Microsoft.Data.SqlClient;
using KustomerSync.Engine.Diagnostics;

namespace KustomerSync.Sources.Tests;

/// <summary>
/// SQL Server cannot run here: these tests cover what can be tested without it — connection-string building with
/// -Credential, parameter binding and value normalisation through a DbDataReader double, and the unreachable-server
/// error of the real SqlClient driver.
/// </summary>
public sealed class SqlServerTests
{
    [Fact]
    public void Credential_is_merged_into_the_connection_string()
    {
        var builder = DbProviders.SqlServerBuilder("Server=tcp:acme.database.windows.net,1433;Database=crm;Integrated Security=true;Encrypt=true",
            new NetworkCredential("sync_reader", "Sql-Secret-1"));
        Assert.Equal("sync_reader", builder.UserID);
        Assert.Equal("Sql-Secret-1", builder.Password);
        Assert.False(builder.IntegratedSecurity);
        Assert.Equal("KustomerSync", builder.ApplicationName);
        Assert.Equal("crm", builder.InitialCatalog);

        using var reader = SourceProviders.Create("AzureSql", "Server=tcp:acme.database.windows.net,1433;Database=crm", new NetworkCredential("u", "Sql-Secret-1"));
        Assert.Equal("SqlServer", reader.Provider);
        Assert.Equal("tcp:acme.database.windows.net,1433", reader.Target);
        using var other = SourceProviders.Create("SqlServer", "Server=myhost;Database=x");
        Assert.Equal("myhost,1433", other.Target);
    }

    [Fact]
    public void Malformed_connection_string_is_an_invalid_argument_without_its_text()
    {
        var ex = Assert.Throws<SourceException>(() => SourceProviders.Create("SqlServer", "Server=x;Pasword=Sql-Secret-2"));
        Assert.Equal(ErrorIds.SourceInvalidConnectionString, ex.ErrorId);
        Assert.DoesNotContain("Sql-Secret-2", ex.Message);
    }

    [Fact]
    public void Unreachable_server_names_host_and_port()
    {
        var port = TestServers.ClosedPort();
        using var reader = SourceProviders.Create("SqlServer", $"Server=tcp:127.0.0.1,{port};User ID=sa;Password=Sql-Secret-3;Connect Timeout=3;Encrypt=false");
        var ex = Assert.Throws<SourceException>(() => reader.Read(new SourceQuery("select 1"), default).ToList());
        Assert.Equal(ErrorIds.SourceConnectionFailed, ex.ErrorId);
        Assert.Contains($"127.0.0.1,{port}", ex.Message);
        Assert.DoesNotContain("Sql-Secret-3", ex.Message);
    }

    [Fact]
    public void Reader_double_binds_parameters_and_normalises_values()
    {
        var table = new DataTable();
        table.Columns.Add("id", typeof(int));
        table.Columns.Add("amount", typeof(decimal));
        table.Columns.Add("when_local", typeof(DateTime));
        table.Columns.Add("when_offset", typeof(DateTimeOffset));
        table.Columns.Add("name", typeof(string));
        table.Columns.Add("id ", typeof(int));
        table.Rows.Add(1, 79228162514264337593543950335m, new DateTime(2024, 1, 2, 3, 4, 5), new DateTimeOffset(2024, 1, 2, 3, 4, 5, TimeSpan.FromHours(-5)), "Zoë", 9);
        table.Rows.Add(2, DBNull.Value, DBNull.Value, DBNull.Value, DBNull.Value, DBNull.Value);
        var connection = new DoubleConnection(table);
        var query = new SourceQuery("select * from t where a = @a and b = @b");
        query.Parameters["a"] = new DateTimeOffset(2024, 5, 6, 7, 8, 9, TimeSpan.FromHours(2));
        query.Parameters["@b"] = null;

        using var reader = SourceProviders.ForConnection(connection);
        var rows = reader.Read(query, default).ToList();

        var command = connection.LastCommand!;
        Assert.Equal("@a", command.Parameters[0].ParameterName);
        Assert.Equal(new DateTime(2024, 5, 6, 5, 8, 9, DateTimeKind.Utc), command.Parameters[0].Value);
        Assert.Equal("@b", command.Parameters[1].ParameterName);
        Assert.Equal(DBNull.Value, command.Parameters[1].Value);
        Assert.Equal(ConnectionState.Open, connection.State); // the user's connection stays open

        Assert.Equal(79228162514264337593543950335m, rows[0].Values[1]);
        var local = Assert.IsType<DateTime>(rows[0].Values[2]);
        Assert.Equal(DateTimeKind.Utc, local.Kind);
        Assert.Equal(new DateTime(2024, 1, 2, 3, 4, 5), local);
        Assert.Equal(new DateTime(2024, 1, 2, 8, 4, 5, DateTimeKind.Utc), rows[0].Values[3]);
        Assert.All(rows[1].Values.Skip(1), Assert.Null);
    }

    [Fact]
    public void Disposing_the_reader_closes_what_an_abandoned_read_left_open()
    {
        var table = new DataTable();
        table.Columns.Add("id", typeof(int));
        for (var i = 0; i < 3; i++) table.Rows.Add(i);

        // Its own connection: closed.
        var owned = new DoubleConnection(table, ConnectionState.Closed);
        var reader = new DbSourceReader(new DbSourceOptions("Double", "double-server", () => owned));
        using (var enumerator = reader.Read(new SourceQuery("select id from t"), default).GetEnumerator())
        {
            Assert.True(enumerator.MoveNext());
            reader.Dispose(); // the caller stops (an error, Ctrl+C) without finishing the enumeration first
            Assert.Equal(ConnectionState.Closed, owned.State);
            Assert.True(owned.WasDisposed);
        }

        // The user's connection: it stays open, but the data reader on it is closed, so the connection can be used again.
        var theirs = new DoubleConnection(table);
        var onTheirs = SourceProviders.ForConnection(theirs);
        using (var enumerator = onTheirs.Read(new SourceQuery("select id from t"), default).GetEnumerator())
        {
            Assert.True(enumerator.MoveNext());
            onTheirs.Dispose();
            Assert.Equal(ConnectionState.Open, theirs.State);
            Assert.False(theirs.WasDisposed);
            Assert.True(theirs.LastReader!.IsClosed);
        }
    }

    /// <summary>An open connection whose commands answer with a DataTable's reader and record their parameters.</summary>
    private sealed class DoubleConnection : DbConnection
    {
        private readonly DataTable _table;
        private ConnectionState _state;

        public DoubleConnection(DataTable table, ConnectionState state = ConnectionState.Open)
        {
            _table = table;
            _state = state;
        }

        public DoubleCommand? LastCommand { get; private set; }
        public DbDataReader? LastReader => LastCommand?.LastReader;
        public bool WasDisposed { get; private set; }

        protected override void Dispose(bool disposing)
        {
            WasDisposed = true;
            _state = ConnectionState.Closed;
            base.Dispose(disposing);
        }

        [System.Diagnostics.CodeAnalysis.AllowNull]
        public override string ConnectionString { get; set; } = "Server=double;Password=Double-Secret";
        public override string Database => "double";
        public override string DataSource => "double-server";
        public override string ServerVersion => "1";
        public override ConnectionState State => _state;
        public override void ChangeDatabase(string databaseName) { }
        public override void Close() => _state = ConnectionState.Closed;
        public override void Open() => _state = ConnectionState.Open;
        protected override DbTransaction BeginDbTransaction(IsolationLevel isolationLevel) => throw new NotSupportedException();
        protected override DbCommand CreateDbCommand() => LastCommand = new DoubleCommand(_table) { Connection = this };
    }

    private sealed class DoubleCommand : DbCommand
    {
        private readonly DataTable _table;
        private readonly SqlParameterCollection _parameters = new SqlCommand().Parameters;

        public DoubleCommand(DataTable table) => _table = table;

        [System.Diagnostics.CodeAnalysis.AllowNull]
        public override string CommandText { get; set; } = "";
        public override int CommandTimeout { get; set; }
        public override CommandType CommandType { get; set; }
        public override bool DesignTimeVisible { get; set; }
        public override UpdateRowSource UpdatedRowSource { get; set; }
        protected override DbConnection? DbConnection { get; set; }
        protected override DbParameterCollection DbParameterCollection => _parameters;
        protected override DbTransaction? DbTransaction { get; set; }
        public override void Cancel() { }
        public override int ExecuteNonQuery() => 0;
        public override object? ExecuteScalar() => null;
        public override void Prepare() { }
        protected override DbParameter CreateDbParameter() => new SqlParameter();
        public DbDataReader? LastReader { get; private set; }
        protected override DbDataReader ExecuteDbDataReader(CommandBehavior behavior) => LastReader = _table.CreateDataReader();
    }
}
