"""Secret scrubbing, with planted values."""

from __future__ import annotations

import pytest

from planforge.secrets import REDACTED, Scrubber, is_secret_env_name, is_secret_key
from tests.publishing.fixtures import BASE_URL, ENV_SECRET, HF_KEY, OPENAI_KEY, URL_PASSWORD


@pytest.fixture
def scrubber() -> Scrubber:
    return Scrubber.from_env(
        {
            "ACME_API_KEY": ENV_SECRET,
            "GITHUB_TOKEN": "ghx-not-a-known-shape-99",
            "MY_CLIENT_SECRET_VALUE": "Zz9-client-secret-Zz9",
            "DB_PASSWORD": "Tr0ub4dor&3",
            "PATH": "/usr/local/bin:/usr/bin",
            "HOME": "/root",
            "SHORT_TOKEN": "abc",  # too short to be worth scrubbing everywhere
            "WORD_KEY": "validation",  # a plain word: scrubbing it would corrupt the data
        },
        extra=[None, "hf_extra_literal_token_1234567890"],
    )


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("OPENAI_API_KEY", True),
        ("HF_TOKEN", True),
        ("AWS_SECRET_ACCESS_KEY", True),
        ("client_secret", True),
        ("DB_PASSWORD", True),
        ("API_KEY", True),
        ("GITHUB_PAT", True),
        ("PATH", False),
        ("TOKENIZERS_PARALLELISM", False),
        ("HF_HUB_DISABLE_XET", False),
        ("KEYBOARD", False),
    ],
)
def test_secret_env_names(name: str, secret: bool) -> None:
    assert is_secret_env_name(name) is secret


@pytest.mark.parametrize(
    ("key", "secret"),
    [
        ("api_key", True),
        ("apiKey", True),
        ("hf-token", True),
        ("password", True),
        ("Authorization", True),
        ("tokens", False),
        ("prompt_tokens", False),
        ("max_tokens", False),
        ("keys", False),
        ("base_url", False),
    ],
)
def test_secret_keys(key: str, secret: bool) -> None:
    assert is_secret_key(key) is secret


def test_environment_values_are_scrubbed_everywhere(scrubber: Scrubber) -> None:
    text = (
        f"key={ENV_SECRET} gh=ghx-not-a-known-shape-99 pw Tr0ub4dor&3 and Zz9-client-secret-Zz9 "
        "hf_extra_literal_token_1234567890"
    )
    out = scrubber.text(text)
    for value in (ENV_SECRET, "ghx-not-a-known-shape-99", "Tr0ub4dor&3", "Zz9-client-secret-Zz9", "hf_extra_literal"):
        assert value not in out
    assert out.count(REDACTED) == 5
    # values not worth scrubbing stay, or they would corrupt the data
    assert scrubber.text("the validation split, abc, /root") == "the validation split, abc, /root"


@pytest.mark.parametrize(
    "text",
    [
        f"my key is {OPENAI_KEY}.",
        "anthropic sk-ant-api03-AbCdEfGhIjKlMnOpQrStUv",
        f"hub token {HF_KEY}",
        "github ghp_0123456789abcdefghijABCDEFGHIJ0123456789",
        "aws AKIAIOSFODNN7EXAMPLE",
        "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.abc123",
    ],
)
def test_key_shapes(scrubber: Scrubber, text: str) -> None:
    out = scrubber.precise(text)
    assert REDACTED in out
    assert scrubber.leaks(out) == []


def test_urls_lose_their_credentials(scrubber: Scrubber) -> None:
    out = scrubber.text(f"base_url = {BASE_URL}")
    assert URL_PASSWORD not in out and "alice" not in out and "QUERYkey-planted-42" not in out
    assert "llm.example.com/v1" in out
    assert scrubber.text("postgres://u:p@db:5432/x") == f"postgres://{REDACTED}@db:5432/x"
    assert scrubber.text("https://proxy.example.com/v1?x=1&token=abc123&y=2") == (
        f"https://proxy.example.com/v1?x=1&token={REDACTED}&y=2"
    )
    # no credentials: untouched
    for fine in ("https://example.com/users/@me", "mail ana@example.com", "https://api.openai.com/v1"):
        assert scrubber.text(fine) == fine


def test_flags_and_assignments(scrubber: Scrubber) -> None:
    assert scrubber.text("gen run --api-key abc123xyz -n 5 --max-tokens 512 --hf-token=q1w2e3r4") == (
        f"gen run --api-key {REDACTED} -n 5 --max-tokens 512 --hf-token={REDACTED}"
    )
    yaml_text = "teacher:\n  api_key: not-a-shape-1234\n  token: null\ntokens:\n  prompt: 5\npassword = 'pw12345678'\n"
    out = scrubber.text(yaml_text)
    assert "not-a-shape-1234" not in out and "pw12345678" not in out
    assert "token: null" in out and "tokens:\n  prompt: 5" in out
    assert f'api_key: "{REDACTED}"' in out and f"password = '{REDACTED}'" in out


def test_precise_leaves_function_signatures_alone(scrubber: Scrubber) -> None:
    """Dataset rows only get the precise rules: `page_token: str` is a parameter, not a secret."""
    signature = "list_files(page_token: str, api_key_name: str) -> list"
    assert scrubber.precise(signature) == signature


def test_objects(scrubber: Scrubber) -> None:
    run = {
        "api_key": "anything-at-all",
        "tokens": {"prompt": 10, "completion": 3},
        "teacher": {"base_url": BASE_URL, "hfToken": "x" * 12, "seed": 3},
        "argv": ["gen", "run", "--api-key", "plainvalue99", "--token=abc", "-n", "5", "--openai-key"],
        "notes": [f"used {OPENAI_KEY}"],
    }
    out = scrubber.obj(run)
    assert out["api_key"] == REDACTED
    assert out["tokens"] == {"prompt": 10, "completion": 3}
    assert out["teacher"]["hfToken"] == REDACTED and out["teacher"]["seed"] == 3
    assert URL_PASSWORD not in out["teacher"]["base_url"]
    assert out["argv"] == ["gen", "run", "--api-key", REDACTED, f"--token={REDACTED}", "-n", "5", "--openai-key"]
    assert OPENAI_KEY not in str(out)
    assert run["api_key"] == "anything-at-all"  # a copy


def test_bytes(scrubber: Scrubber) -> None:
    assert scrubber.bytes(f"k: {OPENAI_KEY}\n".encode()) == f"k: {REDACTED}\n".encode()
    assert scrubber.bytes(b"\x89PNG\x00\x01") is None
    assert scrubber.bytes(b"\xff\xfe") is None
