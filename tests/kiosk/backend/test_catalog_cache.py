"""The catalogue cache: incremental sync over real HTTP, and guides still there when offline."""
from __future__ import annotations

import pytest
import requests

from backend_support import catalog_items
from kiosk.backend.catalog_cache import CatalogCache


@pytest.fixture
def cache(tmp_path):
    cache = CatalogCache(tmp_path / "catalog.sqlite3")
    yield cache
    cache.close()


def test_first_sync_fetches_everything_and_a_second_costs_a_304(backend, client, cache):
    first = cache.sync(client)
    assert first.ok and first.changed == len(catalog_items())
    assert len(cache) == len(catalog_items())
    assert cache.version == backend.store.catalog_version()
    second = cache.sync(client)
    assert second.not_modified and second.changed == 0


def test_sync_in_small_pages_gets_every_item(backend, tmp_path):
    cache = CatalogCache(tmp_path / "paged.sqlite3")
    client = backend.client()
    original = client.catalog_changes
    calls = []

    def small_pages(since_version=0, etag=None, limit=200):
        calls.append(since_version)
        return original(since_version, etag, limit=2)

    client.catalog_changes = small_pages
    assert cache.sync(client).ok
    assert len(cache) == len(catalog_items())
    assert len(calls) >= len(catalog_items()) // 2
    cache.close()


def test_changes_and_withdrawals_arrive_incrementally(backend, client, cache):
    cache.sync(client)
    items = list(catalog_items())
    changed = items[0].model_copy(update={"phone": "0546-3699999"})
    auth = backend.clerk_auth()
    r = requests.put(f"{backend.url}/api/v1/clerk/catalog/items/{changed.code}", auth=auth,
                     data=changed.model_dump_json(), headers={"Content-Type": "application/json"})
    assert r.status_code == 200, r.text
    r = requests.delete(f"{backend.url}/api/v1/clerk/catalog/items/{items[1].code}", auth=auth)
    assert r.status_code == 204
    result = cache.sync(client)
    assert (result.changed, result.removed) == (1, 1)
    assert cache.get(changed.code).phone == "0546-3699999"
    assert cache.get(items[1].code) is None
    assert len(cache) == len(items) - 1


def test_guides_are_read_from_the_cache_with_the_backend_down(backend, client, tmp_path):
    path = tmp_path / "offline.sqlite3"
    cache = CatalogCache(path)
    cache.sync(client)
    cache.close()
    backend.stop()
    reopened = CatalogCache(path)
    result = reopened.sync(client)
    assert not result.ok and "unreachable" in result.error
    assert len(reopened) == len(catalog_items())
    assert reopened.items()[0].popularity == max(i.popularity for i in catalog_items())
    reopened.close()


def test_a_backend_that_was_reset_gives_a_full_catalogue_again(backend, client, cache):
    cache.sync(client)
    cache.apply([], [], version=10_000)  # the terminal knows a later version than the backend has
    stale_code = "370503-OLD-9999"
    stale = catalog_items()[0].model_copy(update={"code": stale_code})
    cache.apply([stale], [], version=10_000)
    result = cache.sync(client)
    assert result.ok
    assert cache.get(stale_code) is None
    assert len(cache) == len(catalog_items())


def test_a_damaged_cache_file_is_replaced_by_an_empty_one(tmp_path):
    path = tmp_path / "catalog.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    cache = CatalogCache(path)
    assert len(cache) == 0 and cache.version == 0
    cache.close()
