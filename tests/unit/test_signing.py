"""Signed notes and checkpoints, byte for byte as the C2SP / Go reference writes them."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.trail import signing

# golang.org/x/mod/sumdb/note documentation example (used as data).
GO_SIGNER = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VERIFIER = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
GO_NOTE = (
    GO_TEXT + "\n— PeterNeumann "
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)
# c2sp.org/signed-note example.
SPEC_VERIFIER = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
SPEC_NOTE = (
    "This is an example message.\n\n— example.com/foo "
    "Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n"
)


def test_signing_reproduces_the_go_reference_note() -> None:
    signer = signing.parse_signer(GO_SIGNER)
    assert signer.verifier.text() == GO_VERIFIER
    assert signer.text() == GO_SIGNER
    assert signing.sign_note(GO_TEXT, signer) == GO_NOTE


def test_reference_notes_open_with_their_verifier_keys() -> None:
    assert signing.open_note(GO_NOTE, [signing.parse_verifier(GO_VERIFIER)]).text == GO_TEXT
    spec = signing.open_note(SPEC_NOTE, [signing.parse_verifier(SPEC_VERIFIER)])
    assert spec.signed_by == ["example.com/foo"]


def test_a_forged_or_unknown_signature_does_not_open() -> None:
    verifier = signing.parse_verifier(GO_VERIFIER)
    altered = GO_NOTE.replace("problem is.", "problem was.")
    with pytest.raises(signing.NoteError, match="签名无效"):
        signing.open_note(altered, [verifier])
    stranger = signing.generate_signer("PeterNeumann")
    with pytest.raises(signing.NoteError, match="没有可识别密钥"):
        signing.open_note(signing.sign_note(GO_TEXT, stranger), [verifier])


def test_checkpoint_round_trip_and_origin(tmp_path: Path) -> None:
    signer = signing.generate_signer("county.example/trail")
    path = tmp_path / "key"
    signing.write_signer(path, signer)
    assert path.stat().st_mode & 0o777 == 0o600
    with pytest.raises(signing.NoteError, match="已存在"):
        signing.write_signer(path, signer)
    loaded = signing.read_signer(path)
    body = signing.CheckpointBody("county.example/trail", 42, bytes(range(32)))
    note = signing.sign_checkpoint(body, loaded)
    assert note.startswith(
        "county.example/trail\n42\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n\n— "
    )
    assert signing.open_checkpoint(note, [signer.verifier], "county.example/trail") == body
    with pytest.raises(signing.NoteError, match="其他日志"):
        signing.open_checkpoint(note, [signer.verifier], "elsewhere/trail")


@pytest.mark.parametrize(
    "text",
    [
        "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # wrong id
        "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # space in name
        "PeterNeumann+c74f20a3+AhpjZA==",  # not Ed25519
        "PeterNeumann",
    ],
)
def test_malformed_verifier_keys_are_refused(text: str) -> None:
    with pytest.raises(signing.NoteError):
        signing.parse_verifier(text)
