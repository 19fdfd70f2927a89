//! Diagnostic: greedy-decode a few tokens from a GGUF and print the top logits at each step,
//! for comparison with `tools/reference_forward.py`.
//! Usage: `[PROBE_SYSTEM=...] logits_probe DIR FILE [prompt]`
use std::sync::Arc;

use mistralrs::{DType, GgufModelBuilder, RequestBuilder, Tensor, TextMessageRole, TokenSource};

fn print_top_logits(logits: &Tensor, context: &[u32]) -> mistralrs::Result<Tensor> {
    let values: Vec<f32> = logits.to_dtype(DType::F32)?.flatten_all()?.to_vec1()?;
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|a, b| values[*b].total_cmp(&values[*a]));
    let top: Vec<String> = order[..5]
        .iter()
        .map(|i| format!("{i}:{:.3}", values[*i]))
        .collect();
    eprintln!("context_len={} top={}", context.len(), top.join(" "));
    if context.len() < 64 {
        eprintln!("context={context:?}");
    }
    Ok(logits.clone())
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let prompt = args
        .get(3)
        .cloned()
        .unwrap_or_else(|| "What is the capital of France?".into());
    let model = GgufModelBuilder::new(&args[1], vec![args[2].clone()])
        .with_token_source(TokenSource::None)
        .with_force_cpu()
        .with_max_num_seqs(1)
        .with_prefix_cache_n(None)
        .build()
        .await?;
    let mut request = RequestBuilder::new();
    if let Ok(system) = std::env::var("PROBE_SYSTEM") {
        request = request.add_message(TextMessageRole::System, system);
    }
    let request = request
        .add_message(TextMessageRole::User, prompt)
        .set_deterministic_sampler()
        .set_sampler_max_len(8)
        .add_logits_processor(Arc::new(print_top_logits));
    let response = model.send_chat_request(request).await?;
    println!(
        "{}",
        response.choices[0]
            .message
            .content
            .clone()
            .unwrap_or_default()
    );
    Ok(())
}
