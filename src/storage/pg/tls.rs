//! TLS to the server, with libpq's `sslmode` meanings, on rustls: no
//! system OpenSSL, so the library a game links carries no new shared
//! dependency.
//!
//! - `disable`: plain TCP.
//! - `prefer` (the default, as libpq's) and `require`: encrypted, the
//!   server's certificate not checked (`prefer` falls back to plain TCP
//!   when the server has no TLS; `require` fails instead).
//! - `verify-ca`: the certificate must chain to `sslrootcert`.
//! - `verify-full`: that, and it must name the host connected to.
//!
//! Unix-socket connections never use TLS (the server does not offer it).

use std::fs::File;
use std::io::BufReader;
use std::sync::Arc;

use postgres::config::SslMode;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{ring, verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::error::{invalid, Result};

/// libpq's `sslmode` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TlsMode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl TlsMode {
    pub(crate) fn parse(text: Option<&str>) -> Result<TlsMode> {
        Ok(match text.unwrap_or("prefer") {
            "disable" => TlsMode::Disable,
            "allow" | "prefer" => TlsMode::Prefer,
            "require" => TlsMode::Require,
            "verify-ca" => TlsMode::VerifyCa,
            "verify-full" => TlsMode::VerifyFull,
            other => {
                return Err(invalid(
                    "sslmode",
                    format!("'{other}' is not one of disable, prefer, require, verify-ca, verify-full"),
                ))
            }
        })
    }
}

/// How a target connects: the mode and, for it, a ready client config.
#[derive(Clone)]
pub(crate) struct Tls {
    mode: TlsMode,
    config: Option<Arc<ClientConfig>>,
}

impl Tls {
    pub(crate) fn new(mode: TlsMode, root_cert: Option<String>) -> Result<Tls> {
        let verifier: Option<Arc<dyn ServerCertVerifier>> = match mode {
            TlsMode::Disable => None,
            TlsMode::Prefer | TlsMode::Require => Some(Arc::new(EncryptOnly(provider()))),
            TlsMode::VerifyCa | TlsMode::VerifyFull => {
                let path = root_cert.ok_or_else(|| {
                    invalid(
                        "sslrootcert",
                        "sslmode=verify-ca and verify-full need sslrootcert=<CA file>",
                    )
                })?;
                let chain = WebPkiServerVerifier::builder_with_provider(
                    Arc::new(roots(&path)?),
                    Arc::new(provider()),
                )
                .build()
                .map_err(|e| invalid("sslrootcert", format!("{path}: {e}")))?;
                Some(Arc::new(Verified {
                    chain,
                    check_name: mode == TlsMode::VerifyFull,
                }))
            }
        };
        let config = verifier
            .map(|v| {
                ClientConfig::builder_with_provider(Arc::new(provider()))
                    .with_safe_default_protocol_versions()
                    .map(|b| {
                        Arc::new(
                            b.dangerous()
                                .with_custom_certificate_verifier(v)
                                .with_no_client_auth(),
                        )
                    })
                    .map_err(|e| invalid("sslmode", format!("TLS set-up: {e}")))
            })
            .transpose()?;
        Ok(Tls { mode, config })
    }

    /// What the driver is told: whether TLS is required or only tried.
    pub(crate) fn driver_mode(&self) -> SslMode {
        match self.mode {
            TlsMode::Disable => SslMode::Disable,
            TlsMode::Prefer => SslMode::Prefer,
            _ => SslMode::Require,
        }
    }

    /// The connector for the driver, None for plain TCP.
    pub(crate) fn connector(&self) -> Option<MakeRustlsConnect> {
        self.config
            .as_ref()
            .map(|c| MakeRustlsConnect::new((**c).clone()))
    }
}

fn provider() -> CryptoProvider {
    ring::default_provider()
}

fn roots(path: &str) -> Result<RootCertStore> {
    let file = File::open(path).map_err(|e| invalid("sslrootcert", format!("{path}: {e}")))?;
    let mut roots = RootCertStore::empty();
    for cert in rustls_pemfile::certs(&mut BufReader::new(file)) {
        let cert = cert.map_err(|e| invalid("sslrootcert", format!("{path}: {e}")))?;
        roots
            .add(cert)
            .map_err(|e| invalid("sslrootcert", format!("{path}: {e}")))?;
    }
    if roots.is_empty() {
        return Err(invalid(
            "sslrootcert",
            format!("{path}: no PEM certificate in it"),
        ));
    }
    Ok(roots)
}

/// `prefer`/`require`: the channel is encrypted and the handshake's
/// signatures are checked, but not who signed the certificate.
#[derive(Debug)]
struct EncryptOnly(CryptoProvider);

impl ServerCertVerifier for EncryptOnly {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// `verify-ca` and `verify-full`: the chain is checked against the root
/// certificates; the host name only for `verify-full`.
#[derive(Debug)]
struct Verified {
    chain: Arc<WebPkiServerVerifier>,
    check_name: bool,
}

impl ServerCertVerifier for Verified {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        match self
            .chain
            .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
        {
            Err(rustls::Error::InvalidCertificate(CertificateError::NotValidForName))
            | Err(rustls::Error::InvalidCertificate(CertificateError::NotValidForNameContext { .. }))
                if !self.check_name =>
            {
                Ok(ServerCertVerified::assertion())
            }
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.chain.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.chain.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.chain.supported_verify_schemes()
    }
}
