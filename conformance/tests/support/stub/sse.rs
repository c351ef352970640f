//! `GET /mcp/sse`: the legacy event stream (the `endpoint` event, keep-alives, the
//! per-key stream cap).

use super::*;

pub(super) fn sse(state: &Arc<State>, key: usize) -> Response<Body> {
    let f = state.fault;
    {
        let mut s = state.streams.lock().unwrap();
        let n = s.entry(key).or_insert(0);
        let cap = if f == Fault::ExtraStream {
            MAX_STREAMS + 1
        } else {
            MAX_STREAMS
        };
        if *n >= cap && f != Fault::NoStreamCap {
            return rate_limited_plain();
        }
        *n += 1;
    }
    let id = hex::encode(rand::random::<[u8; 16]>());
    let (tx, mut rx) = mpsc::channel::<Bytes>(64);
    state.sessions.lock().unwrap().insert(
        id.clone(),
        Session {
            key,
            tx: tx.clone(),
        },
    );
    let endpoint = if f == Fault::AbsoluteEndpoint {
        format!("http://127.0.0.1/mcp/messages?session_id={id}")
    } else {
        format!("/mcp/messages?session_id={id}")
    };
    if f != Fault::NoEndpointEvent {
        let _ = tx.try_send(Bytes::from(format!(
            "event: endpoint\ndata: {endpoint}\n\n"
        )));
    }
    // keep-alive and close detection
    let st = state.clone();
    let sid = id.clone();
    let opened = Instant::now();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(st.keepalive).await;
            let ping = if st.fault == Fault::NoKeepalive {
                Bytes::new()
            } else {
                Bytes::from_static(b": ping\n\n")
            };
            if tx.send(ping).await.is_err() {
                break;
            }
        }
        if st.fault != Fault::SessionNeverRemoved {
            st.sessions.lock().unwrap().remove(&sid);
        }
        if let Some(n) = st.streams.lock().unwrap().get_mut(&key) {
            *n = n.saturating_sub(1);
        }
        if st.fault != Fault::LogNoStreamEnd {
            st.log_line(json!({"event":"mcp_stream_end","session":&sid[..8],"duration_ms":opened.elapsed().as_millis() as u64}));
        }
    });
    let stream = futures::stream::poll_fn(move |cx| rx.poll_recv(cx))
        .map(|b| Ok::<_, Infallible>(Frame::data(b)));
    let mut b = Response::builder()
        .status(200)
        .header("content-type", "text/event-stream")
        .header("cache-control", "no-cache, no-transform");
    if f != Fault::NoAccelBuffering {
        b = b.header("x-accel-buffering", "no");
    }
    b.body(BodyExt::boxed(StreamBody::new(stream)))
        .unwrap_or_default()
}

pub(super) fn rate_limited_plain() -> Response<Body> {
    let mut r = json_resp(429, RATE_BODY);
    r.headers_mut().insert("retry-after", "1".parse().unwrap());
    r
}
