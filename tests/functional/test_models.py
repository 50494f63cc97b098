"""GET /v1/models (issue 5): the models of the configured providers (price table entries whose
provider has a key, or needs none), in the OpenAI list shape plus the seed's
{source, models:[{id, provider, name}], count}; read through the official `openai` npm package
(`client.models.list()`) and over raw HTTP."""

from __future__ import annotations

from conftest import llm_env
from test_chat_completions import node_dir, run_node  # noqa: F401 (node_dir is a fixture)


def test_models_list_through_the_sdk_follows_the_configured_keys(make_server, mock_llm, node_dir):
    # OpenAI has a key, Anthropic has none.
    server = make_server(**llm_env(mock_llm, ANTHROPIC_API_KEY=None, ANTHROPIC_BASE_URL=None))
    res = run_node(node_dir, "models.mjs", server.base_url)
    assert res["ok"], res
    ids = res["ids"]
    assert any(i.startswith("openai/") for i in ids), ids
    assert not [i for i in ids if i.startswith("anthropic/")], ids
    assert len(ids) == len(set(ids)), ids
    for m in res["models"]:
        assert m["object"] == "model", m
        assert m["owned_by"] == m["id"].split("/")[0], m
        assert isinstance(m["created"], int) and m["created"] < 10**11, m


def test_models_list_with_both_keys(make_server, mock_llm, node_dir):
    server = make_server(**llm_env(mock_llm))
    ids = run_node(node_dir, "models.mjs", server.base_url)["ids"]
    assert any(i.startswith("openai/") for i in ids), ids
    assert any(i.startswith("anthropic/") for i in ids), ids


def test_models_raw_shape_has_the_openai_and_seed_fields(make_server, mock_llm):
    server = make_server(**llm_env(mock_llm, ANTHROPIC_API_KEY=None, ANTHROPIC_BASE_URL=None))
    r = server.get("/v1/models")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["object"] == "list"
    assert body["source"] == "price_table"
    assert body["count"] == len(body["models"]) == len(body["data"])
    assert [m["id"] for m in body["models"]] == [d["id"] for d in body["data"]]
    for m in body["models"]:
        provider, _, name = m["id"].partition("/")
        assert m == {"id": m["id"], "provider": provider, "name": name}, m
    assert "openai" in {m["provider"] for m in body["models"]}
    assert "anthropic" not in {m["provider"] for m in body["models"]}


def test_models_without_provider_keys_lists_no_keyed_provider(make_server):
    server = make_server(OPENAI_API_KEY=None, ANTHROPIC_API_KEY=None)
    body = server.get("/v1/models").json()
    providers = {m["provider"] for m in body["models"]}
    assert not providers & {"openai", "anthropic"}, providers
    assert body["count"] == len(body["data"])
