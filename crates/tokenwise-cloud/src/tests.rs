use super::*;
use crate::sse::{parse_line, Event, LineBuffer};

const KEY: &str = "sk-test-0123456789-SECRET";

fn client() -> OpenAiCompatible {
    OpenAiCompatible::new("http://127.0.0.1:9/v1/", Some(Secret::new(KEY))).unwrap()
}

#[test]
fn the_key_never_appears_in_errors_or_debug_output() {
    let client = client();
    let echo = format!("Invalid key {KEY} (Bearer {KEY})");
    let echo_json =
        serde_json::json!({"error": {"message": echo, "type": "auth_error", "code": "401"}})
            .to_string();
    let budget_json = serde_json::json!({"error": {"message": format!("Budget has been exceeded! key={KEY}"), "type": "budget_exceeded", "code": "429"}}).to_string();
    let mut errors = vec![
        client.http_error(401, &echo_json, None),
        client.http_error(403, &echo, None),
        client.http_error(429, &echo_json, Some(Duration::from_secs(3))),
        client.http_error(429, &budget_json, None),
        client.http_error(400, &echo, None),
        client.http_error(404, &echo, None),
        client.http_error(500, &echo_json, None),
        client.http_error(503, &echo, None),
        client.stream_error(sse::ErrorObject {
            message: serde_json::Value::String(echo.clone()),
            kind: None,
            code: serde_json::json!(500),
        }),
        client.stream_error(sse::ErrorObject {
            message: serde_json::Value::String(echo.clone()),
            kind: None,
            code: serde_json::json!("429"),
        }),
        CloudError::Timeout {
            phase: TimeoutPhase::BetweenChunks,
            after: Duration::from_secs(1),
        },
        CloudError::InvalidBaseUrl {
            url: "ftp://x".into(),
            reason: "scheme".into(),
        },
    ];
    // Garbage lines and data that echo the key.
    let mut outcome = CloudOutcome::default();
    let mut seen = false;
    for line in [format!("HTTP/9 {KEY}"), format!("data: {{{KEY}")] {
        errors.push(
            client
                .handle_line(&line, &mut outcome, &mut |_| {}, &mut seen)
                .unwrap_err(),
        );
    }
    let mut texts = vec![format!("{client:?}"), format!("{:?}", Secret::new(KEY))];
    texts.push(Secret::new(KEY).to_string());
    for error in &errors {
        texts.push(error.to_string());
        texts.push(format!("{error:?}"));
    }
    for text in &texts {
        assert!(!text.contains(KEY), "the key leaked: {text}");
        assert!(!text.contains("SECRET"), "part of the key leaked: {text}");
    }
    assert!(errors[0].to_string().contains("check or replace the key"));
    assert!(format!("{client:?}").contains("***"));
}

#[test]
fn http_statuses_map_to_actionable_errors() {
    let client = OpenAiCompatible::new("http://127.0.0.1:9/v1", None).unwrap();
    assert_eq!(
        client.http_error(
            429,
            r#"{"error":{"message":"slow down","code":"429"}}"#,
            Some(Duration::from_secs(7))
        ),
        CloudError::RateLimited {
            retry_after: Some(Duration::from_secs(7)),
            message: "slow down".into()
        }
    );
    assert_eq!(
        client.http_error(401, "nope", None),
        CloudError::Unauthorized { status: 401 }
    );
    assert_eq!(
        client.http_error(403, "", None),
        CloudError::Unauthorized { status: 403 }
    );
    // LiteLLM's budget refusals, old (400) and new (429, type budget_exceeded).
    for (status, body) in [
        (
            400,
            r#"{"error":{"message":"Budget has been exceeded! Current cost: 0.0010747, Max budget: 0.0","type":"auth_error","param":null,"code":400}}"#,
        ),
        (
            400,
            r#"{"error":{"message":"ExceededBudget: End User=ishaan3 over budget. Spend=0.00088, Budget=0.0001","type":"budget_exceeded","param":"None","code":"400"}}"#,
        ),
        (
            429,
            r#"{"error":{"message":"Budget has been exceeded! Current cost: 10.51, Max budget: 10.00","type":"budget_exceeded","code":"429"}}"#,
        ),
    ] {
        assert!(
            matches!(
                client.http_error(status, body, None),
                CloudError::GatewayBudgetExceeded { .. }
            ),
            "{status} {body}"
        );
    }
    assert_eq!(
        client.http_error(502, "<html>bad gateway</html>", None),
        CloudError::Upstream {
            status: 502,
            message: "<html>bad gateway</html>".into()
        }
    );
    assert!(matches!(
        client.http_error(404, r#"{"error":{"message":"model not found"}}"#, None),
        CloudError::Rejected { status: 404, .. }
    ));
    assert_eq!(
        client.http_error(500, "", None).to_string(),
        "the provider failed (HTTP 500): (no message); try again later"
    );
}

#[test]
fn long_server_messages_are_cut() {
    let client = OpenAiCompatible::new("http://127.0.0.1:9/v1", None).unwrap();
    let CloudError::Upstream { message, .. } = client.http_error(500, &"x".repeat(10_000), None)
    else {
        panic!()
    };
    assert_eq!(message.chars().count(), MAX_SERVER_MESSAGE_CHARS + 1);
}

#[test]
fn base_urls_are_checked() {
    assert!(OpenAiCompatible::new("not a url", None).is_err());
    assert!(OpenAiCompatible::new("ftp://example.com", None).is_err());
    assert_eq!(
        OpenAiCompatible::new(" http://h:4000/v1/ ", None)
            .unwrap()
            .base_url(),
        "http://h:4000/v1"
    );
}

#[test]
fn lines_split_across_chunks_and_crlf() {
    let mut buffer = LineBuffer::default();
    assert!(buffer.push(b"data: {\"a\"").is_empty());
    assert_eq!(
        buffer.push(b":1}\r\n\r\ndata: [DO"),
        vec!["data: {\"a\":1}", ""]
    );
    assert_eq!(buffer.push(b"NE]\n"), vec!["data: [DONE]"]);
    assert_eq!(buffer.finish(), None);
    buffer.push(b"data: tail");
    assert_eq!(buffer.finish().as_deref(), Some("data: tail"));
}

#[test]
fn sse_lines_are_classified() {
    assert_eq!(parse_line(""), Event::Ignore);
    assert_eq!(parse_line(": keep-alive"), Event::Ignore);
    assert_eq!(parse_line("event: message"), Event::Ignore);
    assert_eq!(parse_line("data: [DONE]"), Event::Done);
    assert_eq!(parse_line("data:[DONE]"), Event::Done);
    assert_eq!(parse_line("data: {}"), Event::Data("{}"));
    assert_eq!(parse_line("<html>"), Event::Garbage);
}

#[test]
fn chunks_build_the_outcome() {
    let client = client();
    let mut outcome = CloudOutcome::default();
    let mut pieces = Vec::new();
    let mut seen = false;
    let lines = [
        r#"data: {"id":"1","model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":"Hel"}}]}"#,
        r#"data: {"id":"1","choices":[{"index":0,"delta":{"content":"lo"},"finish_reason":null}]}"#,
        r#"data: {"id":"1","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#,
        r#"data: {"id":"1","choices":[],"usage":{"prompt_tokens":12,"completion_tokens":2,"total_tokens":14}}"#,
    ];
    for line in lines {
        assert!(!client
            .handle_line(
                line,
                &mut outcome,
                &mut |p| pieces.push(p.to_owned()),
                &mut seen
            )
            .unwrap());
    }
    assert!(client
        .handle_line("data: [DONE]", &mut outcome, &mut |_| {}, &mut seen)
        .unwrap());
    assert_eq!(pieces, ["Hel", "lo"]);
    assert_eq!(outcome.text, "Hello");
    assert_eq!(outcome.model.as_deref(), Some("m"));
    assert_eq!(outcome.finish_reason.as_deref(), Some("stop"));
    assert_eq!(
        outcome.usage,
        Some(Usage {
            prompt_tokens: 12,
            completion_tokens: 2
        })
    );
    let error = client
        .handle_line(
            r#"data: {"error":{"message":"litellm.RateLimitError: boom","code":"429"}}"#,
            &mut outcome,
            &mut |_| {},
            &mut seen,
        )
        .unwrap_err();
    assert!(matches!(error, CloudError::RateLimited { .. }), "{error:?}");
}

#[test]
fn the_request_asks_for_a_stream_with_usage() {
    let request = CloudRequest {
        model: "gpt-4o-mini".into(),
        messages: vec![
            PromptMessage::new(tokenwise_core::Role::System, "be brief"),
            PromptMessage::new(tokenwise_core::Role::User, "hi"),
        ],
        max_tokens: 64,
    };
    let json = serde_json::to_value(WireRequest::from(&request)).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "model": "gpt-4o-mini",
            "messages": [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}],
            "max_tokens": 64,
            "stream": true,
            "stream_options": {"include_usage": true}
        })
    );
}

#[test]
fn litellm_usage_cost_in_the_final_chunk_is_the_actual_cost() {
    let client = client();
    let mut outcome = CloudOutcome::default();
    let mut seen = false;
    let line = r#"data: {"choices":[{"index":0,"delta":{}}],"usage":{"completion_tokens":10,"prompt_tokens":8,"total_tokens":18,"cost":7.2000000000000005e-6}}"#;
    client
        .handle_line(line, &mut outcome, &mut |_| {}, &mut seen)
        .unwrap();
    // 7.2000000000000005 µ$ rounds up to 8, as Price::cost(8, 10) at $0.15/$0.60 does.
    assert_eq!(outcome.actual_cost, Some(Money::from_micros(8)));
}
