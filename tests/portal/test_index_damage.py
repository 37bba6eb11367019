"""A damaged index is noticed on read: searches answer a clear 503 "being
rebuilt", the health page raises the alarm, a rebuild from the database runs in
the background, and then search works again. The index files are truncated for
real under the running app; the queue is the real embedded one (no consumer
running, so each step can be seen)."""

from __future__ import annotations

from pathlib import Path

import pytest

from assets.sample_files import make_pdf
from portal.search.indexing import get_index
from tests.conftest import run_queued


@pytest.fixture
def app(embedded_app):
    return embedded_app


def _truncate_live_segments() -> int:
    index = get_index()
    live = Path(index.directory) / index.generations.current()
    damaged = 0
    for path in live.iterdir():
        if path.suffix in (".trm", ".pst", ".seg") or path.name.endswith(".toc"):
            size = path.stat().st_size
            with open(path, "r+b") as handle:
                handle.truncate(size // 3)
            damaged += 1
    return damaged


def test_a_damaged_index_answers_rebuilding_then_recovers(app, client, factories, auth, tmp_path):
    pdf = Path(make_pdf(str(tmp_path / "guide.pdf"), [{"title": "Hospital pricing", "lines": ["pricing"]}]))
    asset = factories.asset(title="Hospital pricing guide", filename="guide.pdf", content=pdf.read_bytes())
    run_queued()
    admin = factories.user("admin")
    headers = auth.token(admin)
    assert [i["id"] for i in client.get("/api/v1/search?q=pricing", headers=headers).get_json()["items"]] == [asset.id]

    get_index().searchers.close()  # new readers open the damaged files
    assert _truncate_live_segments() > 0
    answer = client.get("/api/v1/search?q=pricing", headers=headers)
    assert answer.status_code == 503
    assert answer.get_json()["error"]["code"] == "search_rebuilding"
    assert answer.headers["Retry-After"]
    assert client.get("/api/v1/search/pages?q=pricing", headers=headers).status_code == 503
    auth.login(admin)
    page = client.get("/search?q=pricing")
    assert page.status_code == 503 and "being rebuilt" in page.get_data(as_text=True)
    health = client.get("/admin/health").get_data(as_text=True)
    assert "damaged (" in health
    assert client.get(f"/assets/{asset.id}").status_code == 200  # the asset page still shows

    assert run_queued().count("rebuild_index") == 1  # one rebuild however many searches failed
    answer = client.get("/api/v1/search?q=pricing", headers=headers)
    assert answer.status_code == 200 and [i["id"] for i in answer.get_json()["items"]] == [asset.id]
    assert "damaged (" not in client.get("/admin/health").get_data(as_text=True)
    assert get_index().damaged() is None


def test_the_index_is_read_without_memory_mapping(app):
    """A truncated mapped file kills the process with SIGBUS; a read file raises."""
    assert get_index().generations.open("assets").storage.supports_mmap is False
