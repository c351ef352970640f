"""A real MCP client (the official Python SDK, mcp 2.x) against cfpb-mcp's /mcp.

Usage: python call_every_tool.py URL KEY MODE
  MODE "auto": Streamable HTTP with the SDK's default negotiation; lists the
    tools and calls every one of the nine on the fixtures data (MSG-4, DATA-*).
  MODE "2026-07-28": the SDK's stateless revision (issue 12): lists the tools
    and calls search_complaints through the guard.
  MODE "sse": the SDK's HTTP+SSE client (`sse_client`, the 2024-11-05
    transport) with the initialize handshake; URL is the server's /mcp/sse;
    lists the tools and calls every one of the nine (MSG-1, SSE-*).
Prints one JSON line per call ({"tool", "is_error", "structured_keys", "text"})
and a final {"ok": true}; exits non-zero on the first failure.
"""

import asyncio
import json
import sys

import httpx2
from mcp import Client
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client

CALLS = [
    ("search_complaints", {"search_term": "forbearance", "size": 2}),
    ("get_complaint_document", None),  # id taken from the search above
    ("list_complaint_trends", {"lens": "product", "trend_interval": "year", "trend_depth": 2}),
    ("get_state_aggregations", {"product": "Mortgage"}),
    ("suggest_filter_values", {"field": "company", "text": "acme"}),
    ("generate_cfpb_dashboard_url", {"tab": "trends", "lens": "issue", "state": ["CA", "TX"]}),
    ("get_overall_trend_signals", {}),
    ("rank_group_spikes", {"group": "product", "top_n": 3}),
    ("rank_company_spikes", {"top_n": 3}),
]


def fail(message):
    print(json.dumps({"ok": False, "error": message}), flush=True)
    sys.exit(1)


async def main(url, key, mode):
    if mode == "sse":
        transport = sse_client(url, headers={"X-API-Key": key}, timeout=30)
        connect_mode = "legacy"
    else:
        http = httpx2.AsyncClient(headers={"X-API-Key": key}, timeout=30)
        transport = streamable_http_client(url, http_client=http)
        connect_mode = mode
    every = mode in ("auto", "sse")
    async with Client(transport, mode=connect_mode) as client:
        listed = await client.list_tools()
        names = [tool.name for tool in listed.tools]
        print(json.dumps({"tools": names}), flush=True)
        calls = CALLS if every else CALLS[:1]
        if every and sorted(names) != sorted(name for name, _ in CALLS):
            fail(f"unexpected tool list {names}")
        first_id = None
        for name, arguments in calls:
            if arguments is None:
                arguments = {"complaint_id": first_id}
            result = await client.call_tool(name, arguments)
            structured = result.structured_content or {}
            text = "".join(getattr(block, "text", "") for block in result.content)
            print(json.dumps({"tool": name, "is_error": bool(result.is_error),
                              "structured_keys": sorted(structured), "text": text[:300]}), flush=True)
            if result.is_error:
                fail(f"{name} returned isError: {text[:200]}")
            if json.loads(text) != structured:
                fail(f"{name}: text content and structuredContent differ")
            if name == "search_complaints":
                complaints = structured.get("complaints") or []
                if not complaints:
                    fail("search_complaints found nothing")
                first_id = complaints[0]["complaint_id"]
    print(json.dumps({"ok": True}), flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3]))
