"""Build tiny but valid `.argosmodel` packages offline, for tests of the real argostranslate path.

The model is a real CTranslate2 Transformer whose weights are chosen by hand so that it copies its
input piece by piece through a known mapping (ROT13 on ASCII letters, a one-step shift inside
a small Chinese alphabet), and the package ships its own `minisbd/` splitter: no download ever.
"""

from __future__ import annotations

import io
import json
import tempfile
import unicodedata
import zipfile
from pathlib import Path

import numpy as np

# A small Chinese alphabet in the sentencepiece vocabulary; the model maps each character to the
# next one (cyclic), so Chinese output is exact and distinguishable from the identity fallback.
ZH_ALPHABET = "你好我是的人在有这个中国大小天日月水火山美食旅行今很喜欢看海"
_LATIN = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
_OTHER = "0123456789.,!?;:'\"()[]{}-#@/&%+=<>*~|$。、"
SENTENCE_ENDS = ".!?。！？"
NAMES = {
    "en": "English",
    "zh": "Chinese",
    "de": "German",
    "es": "Spanish",
    "ja": "Japanese",
    "fr": "French",
}

_D_TOKEN = 128  # dims 0..127 carry the token code, 128..255 the position code
_D_MODEL = 256
_MAX_POSITIONS = 512


def map_char(ch: str) -> str:
    """The mapping one hop of a tiny model applies to one (NFKC-normalised) character."""
    if ch in _LATIN:
        base = "a" if ch.islower() else "A"
        return chr((ord(ch) - ord(base) + 13) % 26 + ord(base))
    if ch in ZH_ALPHABET:
        return ZH_ALPHABET[(ZH_ALPHABET.index(ch) + 1) % len(ZH_ALPHABET)]
    return ch


def tiny_translate(sentence: str, hops: int = 1) -> str:
    """Expected output of `hops` chained tiny models for ONE sentence (no sentence split inside)."""
    text = unicodedata.normalize("NFKC", sentence)
    for _ in range(hops):
        text = "".join(map_char(c) for c in text)
    return text


def _training_lines() -> list[str]:
    chars = _LATIN + _OTHER + ZH_ALPHABET
    lines = []
    for i in range(300):
        start = (i * 7) % len(chars)
        chunk = chars[start:] + chars[:start]
        lines.append(" ".join(chunk[j : j + 5] for j in range(0, len(chunk), 5)))
    return lines


def _train_sentencepiece() -> tuple[bytes, list[str]]:
    import sentencepiece as spm

    buffer = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(_training_lines()),
        model_writer=buffer,
        model_type="char",
        vocab_size=len(_LATIN + _OTHER + ZH_ALPHABET) + 4,
        hard_vocab_limit=False,
        character_coverage=1.0,
        minloglevel=2,
    )
    data = buffer.getvalue()
    processor = spm.SentencePieceProcessor(model_proto=data)
    pieces = [processor.id_to_piece(i) for i in range(processor.get_piece_size())]
    return data, pieces


def _position_codes() -> np.ndarray:
    # Sinusoids in [u, -u] form: zero mean and constant norm, so layer norm only rescales them.
    freqs = np.geomspace(2.5, 1 / 200.0, 32)
    pos = np.arange(_MAX_POSITIONS)[:, None] * freqs[None, :]
    u = np.concatenate([np.cos(pos), np.sin(pos)], axis=1)  # 64 dims
    return np.concatenate([u, -u], axis=1)  # 128 dims


def _token_codes(size: int) -> np.ndarray:
    rng = np.random.default_rng(20240613)  # fixed seed: the package is deterministic
    v = rng.choice([-1.0, 1.0], size=(size, _D_TOKEN // 2))
    return np.concatenate([v, -v], axis=1)


def _build_spec(pieces: list[str]):  # noqa: ANN202 - ctranslate2 spec type
    import ctranslate2

    spec = ctranslate2.specs.TransformerSpec.from_config((1, 1), 1)
    n = len(pieces)
    zeros = np.zeros
    codes = _token_codes(n)
    pos = np.zeros((_MAX_POSITIONS, _D_MODEL), np.float32)
    pos[:, _D_TOKEN:] = _position_codes()
    token_emb = zeros((n, _D_MODEL), np.float32)
    token_emb[:, :_D_TOKEN] = codes

    enc, dec = spec.encoder, spec.decoder
    for part, emb in ((enc, token_emb), (dec, zeros((n, _D_MODEL), np.float32))):
        # The decoder input carries only its position: the copied token comes from cross-attention.
        part.scale_embeddings = False
        part.position_encodings.encodings = pos
        part.layer_norm.gamma = np.ones(_D_MODEL, np.float32)
        part.layer_norm.beta = zeros(_D_MODEL, np.float32)
    enc.embeddings[0].weight = token_emb
    dec.embeddings.weight = zeros((n, _D_MODEL), np.float32)

    def norm(ln) -> None:  # noqa: ANN001
        ln.gamma = np.ones(_D_MODEL, np.float32)
        ln.beta = zeros(_D_MODEL, np.float32)

    def linear(lin, weight: np.ndarray) -> None:  # noqa: ANN001
        lin.weight = weight.astype(np.float32)
        lin.bias = zeros(weight.shape[0], np.float32)

    for layer in (enc.layer[0], dec.layer[0]):
        # Self-attention and feed-forward contribute nothing (zero output projections).
        norm(layer.self_attention.layer_norm)
        linear(layer.self_attention.linear[0], zeros((3 * _D_MODEL, _D_MODEL)))
        linear(layer.self_attention.linear[1], zeros((_D_MODEL, _D_MODEL)))
        norm(layer.ffn.layer_norm)
        linear(layer.ffn.linear_0, zeros((64, _D_MODEL)))
        linear(layer.ffn.linear_1, zeros((_D_MODEL, 64)))

    att = dec.layer[0].attention
    norm(att.layer_norm)
    query = zeros((_D_MODEL, _D_MODEL))
    query[_D_TOKEN:, _D_TOKEN:] = np.eye(_D_TOKEN) * 16.0  # sharp: look at source position t only
    kv = zeros((2 * _D_MODEL, _D_MODEL))
    kv[_D_TOKEN:_D_MODEL, _D_TOKEN:] = np.eye(_D_TOKEN)  # keys: position part of the memory
    kv[_D_MODEL : _D_MODEL + _D_TOKEN, :_D_TOKEN] = np.eye(_D_TOKEN)  # values: token part
    linear(att.linear[0], query)
    linear(att.linear[1], kv)
    linear(att.linear[2], np.eye(_D_MODEL))

    index = {p: i for i, p in enumerate(pieces)}
    projection = zeros((n, _D_MODEL))
    for i, piece in enumerate(pieces):
        # Output row of piece j is the code of the source piece that maps to it: logits peak there.
        mapped = "".join(map_char(c) for c in piece) if not piece.startswith("<") else piece
        projection[index.get(mapped, i), :_D_TOKEN] = codes[i] * 4.0
    linear(dec.projection, projection)

    spec.config.add_source_eos = True
    spec.register_source_vocabulary(pieces)
    spec.register_target_vocabulary(pieces)
    spec.validate()
    spec.optimize()
    return spec


def build_minisbd_onnx() -> bytes:
    """A MiniSBD splitter: one Gather over a per-character table; sentence ends get label 2."""
    from onnx import TensorProto, helper

    units = ["<PAD>", "<UNK>", *SENTENCE_ENDS]
    table = np.zeros((len(units), 5), np.float32)
    table[0, 0] = 1.0
    table[1:, 1] = 1.0  # every character ends a token (spaces are dropped by MiniSBD itself)
    for i in range(2, len(units)):
        table[i] = [0, 0, 1, 0, 0]
    graph = helper.make_graph(
        [helper.make_node("Gather", ["table", "units"], ["logits"], axis=0)],
        "tiny_sbd",
        [
            helper.make_tensor_value_info("units", TensorProto.INT64, ["b", "t"]),
            helper.make_tensor_value_info("features", TensorProto.FLOAT, ["b", "t", "f"]),
        ],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["b", "t", 5])],
        [helper.make_tensor("table", TensorProto.FLOAT, table.shape, table.flatten().tolist())],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    config = {"feat_funcs": [], "use_dictionary": False, "num_dict_feat": 0, "max_seqlen": 1000}
    vocab = {
        "lang": "",
        "idx": 0,
        "cutoff": 0,
        "lower": False,
        "_unit2id": {u: i for i, u in enumerate(units)},
        "_id2unit": units,
    }
    for key, value in (("config", config), ("vocab", vocab), ("lexicon", None)):
        entry = model.metadata_props.add()
        entry.key, entry.value = key, json.dumps(value)
    return bytes(model.SerializeToString())


def package_metadata(from_code: str, to_code: str, version: str = "1.0") -> dict[str, object]:
    return {
        "package_version": version,
        "argos_version": "1.9",
        "type": "translate",
        "from_code": from_code,
        "from_name": NAMES.get(from_code, from_code),
        "to_code": to_code,
        "to_name": NAMES.get(to_code, to_code),
        "links": [],
    }


_CACHE: dict[tuple[str, str], bytes] = {}


def _package_bytes(from_code: str, to_code: str) -> bytes:
    key = (from_code, to_code)
    if key not in _CACHE:
        sp_model, pieces = _train_sentencepiece()
        spec = _build_spec(pieces)
        folder = f"translate-{from_code}_{to_code}-1_0"
        out = io.BytesIO()
        with tempfile.TemporaryDirectory() as tmp, zipfile.ZipFile(out, "w") as zf:
            spec.save(tmp)
            for path in sorted(Path(tmp).iterdir()):
                zf.write(path, f"{folder}/model/{path.name}")
            zf.writestr(f"{folder}/metadata.json", json.dumps(package_metadata(from_code, to_code)))
            zf.writestr(f"{folder}/sentencepiece.model", sp_model)
            zf.writestr(f"{folder}/minisbd/{from_code}.onnx", build_minisbd_onnx())
        _CACHE[key] = out.getvalue()
    return _CACHE[key]


def build_tiny_package(dest_dir: Path, from_code: str, to_code: str) -> Path:
    """Write `translate-<from>_<to>.argosmodel` into dest_dir and return its path."""
    dest_dir.mkdir(parents=True, exist_ok=True)
    path = dest_dir / f"translate-{from_code}_{to_code}.argosmodel"
    path.write_bytes(_package_bytes(from_code, to_code))
    return path
