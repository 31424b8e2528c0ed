"""Redaction: every registered secret is replaced wherever it appears, memory stays bounded however many
secrets a long-lived process meets, and the secrets in use are the ones kept."""

from __future__ import annotations

import logging
import string

from hypothesis import given, settings
from hypothesis import strategies as st

from core import redact as redact_module
from core.redact import (
    MASK,
    MAX_SECRETS,
    MIN_LENGTH,
    RedactingFilter,
    SecretIndex,
    redact,
    register_secret,
    registered_count,
)

TOKEN_CHARS = string.ascii_letters + string.digits + "_-"


def test_a_secret_is_masked_at_the_start_in_the_middle_at_the_end_and_glued_to_other_text():
    index = SecretIndex()
    index.add("sk_live_0123456789abcdef")

    for text in ("sk_live_0123456789abcdef then", "key=sk_live_0123456789abcdef;",
                 "at the end sk_live_0123456789abcdef", "xxsk_live_0123456789abcdefyy"):
        assert "sk_live_0123456789abcdef" not in index.redact(text)
        assert MASK in index.redact(text)


def test_short_secrets_are_masked_and_shorter_values_are_ignored():
    index = SecretIndex()
    index.add("8charsXY")  # the shortest registered value
    register_secret("short")  # below MIN_LENGTH: would redact ordinary words

    assert index.redact("token 8charsXY here") == f"token {MASK} here"
    assert redact("a short word") == "a short word"


def test_a_secret_containing_another_is_masked_whole():
    index = SecretIndex()
    inner, outer = "abcdefgh12345678", "https://hooks.example.com/catch/abcdefgh12345678/zz"
    index.add(inner)
    index.add(outer)

    assert index.redact(f"posting to {outer} failed") == f"posting to {MASK} failed"


def test_memory_is_bounded_however_many_secrets_a_process_meets():
    for i in range(MAX_SECRETS + 1_000):
        register_secret(f"whsec_bounded_{i:08d}_0123456789")

    assert registered_count() <= MAX_SECRETS


def test_the_secrets_in_use_are_kept_and_the_longest_unused_are_forgotten():
    index = SecretIndex(capacity=3)
    for name in ("first_secret_a", "second_secret_b", "third_secret_c"):
        index.add(name)
    index.add("first_secret_a")  # used again: now the most recent

    index.add("fourth_secret_d")

    assert len(index) == 3
    assert index.redact("first_secret_a fourth_secret_d") == f"{MASK} {MASK}"
    assert index.redact("second_secret_b") == "second_secret_b", "the one unused longest was forgotten"


def test_forgetting_one_secret_keeps_another_that_shares_its_window():
    index = SecretIndex(capacity=2)
    index.add("aaaa_same_tail_12345678")
    index.add("bbbb_same_tail_12345678")  # the same last windows
    index.add("aaaa_same_tail_12345678")
    index.add("cccc_other_secret_000")  # evicts bbbb

    assert index.redact("aaaa_same_tail_12345678") == MASK


@settings(max_examples=200, deadline=None)
@given(secrets=st.lists(st.text(TOKEN_CHARS + "/:.?=", min_size=MIN_LENGTH, max_size=60), min_size=1, max_size=20),
       filler=st.lists(st.text(string.printable, max_size=30), min_size=1, max_size=21))
def test_no_registered_secret_survives_in_any_text(secrets: list[str], filler: list[str]):
    index = SecretIndex()
    for secret in secrets:
        index.add(secret)
    text = "".join(part for pair in zip(filler, [*secrets, ""], strict=False) for part in pair)

    cleaned = index.redact(text)

    assert not [s for s in secrets if s in cleaned and s != MASK and MASK not in s]


def test_the_log_filter_masks_a_registered_secret_in_message_and_arguments(caplog):
    register_secret("whsec_logged_0123456789abcdef")
    logger = logging.getLogger("test.redact")
    record = logger.makeRecord("test.redact", logging.INFO, __file__, 1, "target %s answered %d",
                               ("https://x.example/whsec_logged_0123456789abcdef", 500), None)

    RedactingFilter().filter(record)

    assert record.getMessage() == f"target https://x.example/{MASK} answered 500"


def test_the_module_index_is_one_shared_instance():
    assert isinstance(redact_module._index, SecretIndex)
