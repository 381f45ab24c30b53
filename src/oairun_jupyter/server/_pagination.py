"""List pages as the service made them: `limit` (1-100, default 20), `order` (default desc),
`after` and `before` cursors, and `first_id` / `last_id` / `has_more`."""

from __future__ import annotations

from typing import Any, Mapping

from ._errors import invalid

__all__ = ["page_params", "page"]


def page_params(query: Mapping[str, str]) -> dict[str, Any]:
    """The checked paging parameters of a list request."""
    raw_limit = query.get("limit", "20")
    try:
        limit = int(raw_limit)
    except ValueError:
        raise invalid(f"Invalid 'limit': expected an integer from 1 to 100, got '{raw_limit}'.", "limit") from None
    if not 1 <= limit <= 100:
        raise invalid(f"Invalid 'limit': expected an integer from 1 to 100, got {limit}.", "limit")
    order = query.get("order", "desc")
    if order not in ("asc", "desc"):
        raise invalid(f"Invalid 'order': expected 'asc' or 'desc', got '{order}'.", "order")
    return {"limit": limit, "order": order, "after": query.get("after"), "before": query.get("before")}


def page(items: list[dict[str, Any]], limit: int, after: str | None, before: str | None) -> dict[str, Any]:
    """One page of `items` (already in listing order) as a list object."""
    ids = [item["id"] for item in items]
    start, end = 0, len(items)
    if after is not None:
        start = ids.index(after) + 1 if after in ids else len(items)
    if before is not None:
        end = ids.index(before) if before in ids else 0
    window = items[start:end]
    if before is not None and after is None:
        chosen = window[-limit:]  # the page just before the cursor
        has_more = len(window) > limit
    else:
        chosen = window[:limit]
        has_more = len(window) > limit
    # The contract wants string cursors even for an empty page (the service sent null there).
    return {"object": "list", "data": chosen,
            "first_id": chosen[0]["id"] if chosen else "",
            "last_id": chosen[-1]["id"] if chosen else "",
            "has_more": has_more}
