//! One client type for any catalog provider, whatever protocol it speaks.

use tokenwise_core::{CancellationToken, Provider, ProviderApi};

use crate::{
    AnthropicMessages, CloudError, CloudOutcome, CloudRequest, OpenAiCompatible, Secret, Timeouts,
};

/// The client for a catalog [`Provider`]: OpenAI-compatible or Anthropic Messages.
#[derive(Debug, Clone)]
pub enum CloudClient {
    OpenAi(OpenAiCompatible),
    Anthropic(AnthropicMessages),
}

impl CloudClient {
    /// A client for `provider`'s base URL and protocol, with its key (if it has one).
    pub fn for_provider(
        provider: &Provider,
        api_key: Option<Secret>,
        timeouts: Timeouts,
    ) -> Result<CloudClient, CloudError> {
        Ok(match provider.api {
            ProviderApi::OpenAi => CloudClient::OpenAi(OpenAiCompatible::with_timeouts(
                &provider.base_url,
                api_key,
                timeouts,
            )?),
            ProviderApi::Anthropic => CloudClient::Anthropic(AnthropicMessages::with_timeouts(
                &provider.base_url,
                api_key,
                timeouts,
            )?),
        })
    }

    /// Streams one answer (see [`OpenAiCompatible::stream_chat`] and
    /// [`AnthropicMessages::stream_chat`]).
    pub async fn stream_chat(
        &self,
        request: &CloudRequest,
        on_token: impl FnMut(&str),
        cancel: CancellationToken,
    ) -> Result<CloudOutcome, CloudError> {
        match self {
            CloudClient::OpenAi(client) => client.stream_chat(request, on_token, cancel).await,
            CloudClient::Anthropic(client) => client.stream_chat(request, on_token, cancel).await,
        }
    }
}
