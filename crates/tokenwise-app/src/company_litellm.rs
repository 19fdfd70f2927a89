//! A company on a LiteLLM proxy instead of `tokenwise-server` (`tokenwise_sync::litellm`).
//!
//! The employee connects with the proxy's address and their virtual key; the key goes to the
//! OS keyring like a device token. The link's snapshot is then made from `GET /key/info` (one
//! window: the key's budget), so the meter, the cost preview, the router and the alerts treat
//! it like any company window. LiteLLM holds and records each call's spend itself, so nothing
//! is held on it first and the outbox stays empty: a cloud call over the key's budget is
//! refused by the proxy (reported as the gateway's budget refusal, costing nothing).
//! The cloud calls go to the proxy through the tier catalog's provider that names it.

use tokenwise_core::Secret;
use tokenwise_store::{CompanyKind, CompanyLink};
use tokenwise_sync::{QuotaClient, SyncError};

use crate::company::{token_account, CompanyStatus};
use crate::error::AppError;
use crate::facade::Tokenwise;
use crate::keys::blocking;

impl Tokenwise {
    /// Links this laptop to a LiteLLM proxy with the employee's virtual key: the key is
    /// checked against `/key/info`, kept in the OS keyring, and its budget read.
    pub async fn connect_litellm(
        &self,
        proxy_url: &str,
        virtual_key: &str,
    ) -> Result<CompanyStatus, AppError> {
        let key = virtual_key.trim();
        if key.is_empty() {
            return Err(AppError::InvalidInput(
                "Enter the LiteLLM virtual key your administrator gave you.".into(),
            ));
        }
        // The proxy's root: an OpenAI base URL (`…/v1`) pasted here means the same proxy.
        let root = proxy_url.trim().trim_end_matches('/');
        let root = root.strip_suffix("/v1").unwrap_or(root);
        self.check_quota_server(root)?;
        let client = QuotaClient::new(root, self.company_timeout)?;
        let info = client.litellm_key_info(key).await?;
        info.to_snapshot(self.clock.now_ms())
            .map_err(|detail| SyncError::Garbage {
                server: client.server().to_string(),
                detail,
            })?;
        let device_id = format!("litellm-{}", uuid::Uuid::new_v4());
        let vault = self.keys.clone();
        let (account, secret) = (token_account(&device_id), Secret::new(key.to_string()));
        blocking(move || vault.save(&account, &secret)).await?;
        self.store
            .set_company_link(
                CompanyKind::LiteLlm,
                client.server(),
                &device_id,
                &info.owner(),
                self.clock.now_ms(),
            )
            .await?;
        self.sync_company().await?;
        self.company_status()
            .await?
            .ok_or_else(|| AppError::InvalidInput("The company link was not kept.".into()))
    }

    /// Reads the virtual key's budget into the link's snapshot.
    pub(crate) async fn pull_litellm(
        &self,
        link: &CompanyLink,
        client: &QuotaClient,
        key: &Secret,
    ) -> Result<(), AppError> {
        let now = self.clock.now_ms();
        let snapshot = client
            .litellm_key_info(key.expose())
            .await
            .and_then(|info| {
                info.to_snapshot(now).map_err(|detail| SyncError::Garbage {
                    server: link.server_url.clone(),
                    detail,
                })
            });
        match snapshot {
            Ok(snapshot) => self.keep_snapshot(&snapshot, None, now).await?,
            Err(error) => {
                self.store
                    .note_company_failure(&error.to_string(), now)
                    .await?;
            }
        }
        Ok(())
    }
}
