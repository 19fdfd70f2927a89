//! Built-in HTTPS (`serve --tls-cert FILE --tls-key FILE`), for a company that runs the server
//! without a TLS-terminating proxy in front. rustls with the *ring* provider; TLS 1.2 and 1.3;
//! HTTP/1.1 and HTTP/2 (ALPN). Certificates and keys are PEM files (a chain: leaf first).
//!
//! Each connection's handshake runs in its own task with a deadline, so a client that opens a
//! connection and says nothing holds up no one.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use crate::error::ServerError;

/// How long a client has to finish the TLS handshake.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Reads the certificate chain and private key; a file that is missing, empty, not PEM, or a
/// key that does not belong to the certificate is refused with the file named.
pub fn load_config(cert_file: &Path, key_file: &Path) -> Result<rustls::ServerConfig, ServerError> {
    let problem =
        |file: &Path, what: String| ServerError::Config(format!("TLS: {}: {what}", file.display()));
    let chain = CertificateDer::pem_file_iter(cert_file)
        .map_err(|e| problem(cert_file, format!("cannot read the certificate ({e})")))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| problem(cert_file, format!("not a PEM certificate ({e})")))?;
    if chain.is_empty() {
        return Err(problem(
            cert_file,
            "holds no certificate (expected -----BEGIN CERTIFICATE-----)".into(),
        ));
    }
    let key = PrivateKeyDer::from_pem_file(key_file)
        .map_err(|e| problem(key_file, format!("no usable private key ({e})")))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ServerError::Config(format!("TLS: {e}")))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| {
            problem(
                key_file,
                format!(
                    "the key does not fit the certificate in {} ({e})",
                    cert_file.display()
                ),
            )
        })?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

/// Serves `app` over TLS on `listener` until `shutdown` resolves (connections in flight are
/// not waited for: a client retries, and every write is idempotent or transactional).
pub async fn serve(
    listener: TcpListener,
    config: rustls::ServerConfig,
    app: Router,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<(), ServerError> {
    let acceptor = TlsAcceptor::from(Arc::new(config));
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors and the like: say so, breathe, go on.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => return Ok(()),
        };
        tokio::spawn(serve_connection(
            acceptor.clone(),
            stream,
            peer,
            app.clone(),
        ));
    }
}

async fn serve_connection(
    acceptor: TlsAcceptor,
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
    app: Router,
) {
    let tls = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
        Ok(Ok(tls)) => tls,
        Ok(Err(error)) => {
            tracing::debug!(%peer, %error, "TLS handshake failed");
            return;
        }
        Err(_) => {
            tracing::debug!(%peer, "TLS handshake timed out");
            return;
        }
    };
    let service = TowerToHyperService::new(app);
    if let Err(error) = auto::Builder::new(TokioExecutor::new())
        .serve_connection(TokioIo::new(tls), service)
        .await
    {
        tracing::debug!(%peer, %error, "connection ended with an error");
    }
}
