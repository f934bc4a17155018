using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using KustomerSync.Engine.Diagnostics;

namespace KustomerSync.Engine.Sources.Rest;

/// <summary>RS256 JSON Web Tokens and RSA private keys read from PEM (PKCS#1 or PKCS#8, encrypted PKCS#8 with a passphrase on PowerShell 7).</summary>
public static class Jwt
{
    public static string CreateRs256(RSA key, IDictionary<string, object> claims, string? keyId = null)
    {
        var header = new Dictionary<string, object> { ["alg"] = "RS256", ["typ"] = "JWT" };
        if (keyId is not null) header["kid"] = keyId;
        var signingInput = Base64Url(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(header))) + "." +
                           Base64Url(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(claims)));
        var signature = key.SignData(Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return signingInput + "." + Base64Url(signature);
    }

    public static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public static long UnixTime(DateTime utc) => (long)(utc - new DateTime(1970, 1, 1, 0, 0, 0, DateTimeKind.Utc)).TotalSeconds;

    /// <summary>Reads an RSA private key from PEM text. Errors never quote the key.</summary>
    public static RSA LoadRsaPrivateKey(string pem, string? passphrase, string provider, string what)
    {
        try
        {
#if NET
            var rsa = RSA.Create();
            if (pem.Contains("ENCRYPTED PRIVATE KEY"))
            {
                if (string.IsNullOrEmpty(passphrase))
                    throw SourceErrors.Invalid(ErrorIds.SourceInvalidConnectionString, $"The {provider} {what} is encrypted: give its passphrase (PrivateKeyPassphrase=... or the credential's password).");
                rsa.ImportFromEncryptedPem(pem, passphrase);
            }
            else
            {
                rsa.ImportFromPem(pem);
            }
            return rsa;
#else
            if (pem.Contains("ENCRYPTED PRIVATE KEY"))
                throw SourceErrors.Invalid(ErrorIds.SourceInvalidConnectionString, $"Encrypted private keys need PowerShell 7; on Windows PowerShell 5.1 give the {provider} {what} unencrypted.");
            return DerKeys.FromPem(pem);
#endif
        }
        catch (SourceException)
        {
            throw;
        }
        catch (Exception ex) when (ex is CryptographicException or ArgumentException or FormatException or InvalidOperationException)
        {
            throw SourceErrors.Invalid(ErrorIds.SourceInvalidConnectionString,
                $"The {provider} {what} could not be read as an RSA private key in PEM form (-----BEGIN PRIVATE KEY----- or -----BEGIN RSA PRIVATE KEY-----); check the file and its passphrase.");
        }
    }

    /// <summary>The DER SubjectPublicKeyInfo of an RSA key (what Snowflake fingerprints).</summary>
    public static byte[] PublicKeyInfo(RSA rsa)
    {
#if NET
        return rsa.ExportSubjectPublicKeyInfo();
#else
        return DerKeys.SubjectPublicKeyInfo(rsa.ExportParameters(false));
#endif
    }
}

#if !NET
/// <summary>Minimal DER reading and writing of RSA keys for .NET Framework, which lacks ImportFromPem.</summary>
internal static class DerKeys
{
    public static RSA FromPem(string pem)
    {
        var pkcs1 = pem.Contains("BEGIN RSA PRIVATE KEY");
        var body = string.Concat(pem.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith("-----", StringComparison.Ordinal)));
        var der = Convert.FromBase64String(body);
        var reader = new Reader(der);
        if (!pkcs1)
        {
            // PrivateKeyInfo: SEQUENCE { INTEGER version, SEQUENCE algorithm, OCTET STRING privateKey }
            var info = reader.Sequence();
            info.Integer();
            info.Sequence();
            reader = new Reader(info.OctetString());
        }
        var key = reader.Sequence();
        key.Integer();
        var parameters = new RSAParameters
        {
            Modulus = Trim(key.Integer()),
            Exponent = Trim(key.Integer()),
            D = Trim(key.Integer()),
            P = Trim(key.Integer()),
            Q = Trim(key.Integer()),
            DP = Trim(key.Integer()),
            DQ = Trim(key.Integer()),
            InverseQ = Trim(key.Integer()),
        };
        var half = (parameters.Modulus.Length + 1) / 2;
        parameters.D = Pad(parameters.D, parameters.Modulus.Length);
        parameters.P = Pad(parameters.P, half);
        parameters.Q = Pad(parameters.Q, half);
        parameters.DP = Pad(parameters.DP, half);
        parameters.DQ = Pad(parameters.DQ, half);
        parameters.InverseQ = Pad(parameters.InverseQ, half);
        var rsa = RSA.Create();
        rsa.ImportParameters(parameters);
        return rsa;
    }

    public static byte[] SubjectPublicKeyInfo(RSAParameters p)
    {
        var rsaPublicKey = Tlv(0x30, Concat(Tlv(0x02, Positive(p.Modulus!)), Tlv(0x02, Positive(p.Exponent!))));
        var algorithm = Tlv(0x30, Concat(new byte[] { 0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x01 }, new byte[] { 0x05, 0x00 }));
        var bitString = Tlv(0x03, Concat(new byte[] { 0 }, rsaPublicKey));
        return Tlv(0x30, Concat(algorithm, bitString));
    }

    private static byte[] Positive(byte[] value) => value.Length > 0 && value[0] >= 0x80 ? Concat(new byte[] { 0 }, value) : value;

    private static byte[] Trim(byte[] value)
    {
        var i = 0;
        while (i < value.Length - 1 && value[i] == 0) i++;
        return value.Skip(i).ToArray();
    }

    private static byte[] Pad(byte[] value, int length) => value.Length >= length ? value : Concat(new byte[length - value.Length], value);

    private static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();

    private static byte[] Tlv(byte tag, byte[] content)
    {
        byte[] length;
        if (content.Length < 0x80) length = new[] { (byte)content.Length };
        else
        {
            var bytes = Enumerable.Reverse(BitConverter.GetBytes(content.Length)).SkipWhile(b => b == 0).ToArray();
            length = Concat(new[] { (byte)(0x80 | bytes.Length) }, bytes);
        }
        return Concat(new[] { tag }, length, content);
    }

    private sealed class Reader
    {
        private readonly byte[] _data;
        private int _position;

        public Reader(byte[] data) => _data = data;

        public Reader Sequence() => new(Read(0x30));
        public byte[] Integer() => Read(0x02);
        public byte[] OctetString() => Read(0x04);

        private byte[] Read(byte tag)
        {
            if (_data[_position++] != tag) throw new FormatException("Unexpected DER tag.");
            int length = _data[_position++];
            if ((length & 0x80) != 0)
            {
                var count = length & 0x7F;
                length = 0;
                for (var i = 0; i < count; i++) length = (length << 8) | _data[_position++];
            }
            var value = new byte[length];
            Array.Copy(_data, _position, value, 0, length);
            _position += length;
            return value;
        }
    }
}
#endif
