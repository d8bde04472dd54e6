"""A randomly initialised XTTS v2 checkpoint directory, built locally (no download).

"tiny" is the real architecture in miniature (1 GPT layer, 64 channels; the HiFiGAN decoder and
speaker encoder keep their fixed sizes); "full" is XTTS v2's own size (30 layers, 1024 channels,
16 heads; 1.8 GB, for benchmarks). Both go through the real coqui-tts loading, conditioning and
inference code, producing noise-like audio.
"""

from __future__ import annotations

from pathlib import Path

import torch
from tokenizers import Tokenizer
from tokenizers.models import BPE
from tokenizers.pre_tokenizers import Whitespace
from TTS.tts.configs.xtts_config import XttsArgs, XttsAudioConfig, XttsConfig
from TTS.tts.models.xtts import Xtts

from voxify.engines.languages import XTTS_LANGUAGES

SPEAKERS = ("Studio Speaker A", "Studio Speaker B")
SIZES = {"tiny": (1, 64, 2), "full": (30, 1024, 16)}  # GPT layers, channels, heads
SAMPLES_PER_TOKEN = 1113.6  # audio per generated GPT token: XTTS v2 at 24 kHz


def _vocab(path: Path) -> Tokenizer:
    """A character-level BPE in the format VoiceBpeTokenizer loads (vocab.json)."""
    chars: list[str] = []
    for low, high in [(0x21, 0x7E), (0xA1, 0x17F), (0x370, 0x3FF), (0x400, 0x4FF)]:
        chars += [chr(c) for c in range(low, high + 1) if not chr(c).isupper()]
    specials = ["[STOP]", "[UNK]", "[SPACE]"]
    vocab = {token: index for index, token in enumerate(specials)}
    for ch in dict.fromkeys(chars):
        vocab.setdefault(ch, len(vocab))
    vocab["[START]"] = len(vocab)
    for code in XTTS_LANGUAGES:
        vocab[f"[{code}]"] = len(vocab)
    tokenizer = Tokenizer(BPE(vocab=vocab, merges=[], unk_token="[UNK]"))
    tokenizer.pre_tokenizer = Whitespace()
    tokenizer.add_special_tokens([*specials, "[START]", *(f"[{c}]" for c in XTTS_LANGUAGES)])
    tokenizer.save(str(path))
    return tokenizer


def _widen(model: Xtts, dim: int) -> None:
    """Draw the GPT blocks wider than GPT-2's init (std 0.02), so what the model generates
    depends on the text and voice in its prefix, as a trained model's does; at 0.02 the output
    follows only the previous audio token and every text gives the same codes."""
    with torch.no_grad():
        for parameter in model.gpt.gpt.h.parameters():
            if parameter.dim() == 2:
                parameter.normal_(0.0, 4.0 / dim**0.5)
            else:
                parameter.normal_(0.0, 0.5)


def build_tiny_xtts(out: Path, *, seed: int = 0) -> Path:
    """Write a tiny model.pth, config.json, vocab.json and speakers_xtts.pth under ``out``."""
    return build_xtts(out, size="tiny", seed=seed)


def build_xtts(out: Path, *, size: str = "tiny", seed: int = 0) -> Path:
    """Write a "tiny" or "full" size model.pth, config.json, vocab.json, speakers_xtts.pth."""
    layers, dim, heads = SIZES[size]
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    tokenizer = _vocab(out / "vocab.json")
    args = XttsArgs(
        gpt_layers=layers,
        gpt_n_model_channels=dim,
        gpt_n_heads=heads,
        gpt_max_audio_tokens=605,
        gpt_max_text_tokens=402,
        gpt_max_prompt_tokens=70,
        gpt_number_text_tokens=max(tokenizer.get_vocab().values()) + 1,
        gpt_start_text_token=tokenizer.token_to_id("[START]"),
        gpt_stop_text_token=tokenizer.token_to_id("[STOP]"),
        # XTTS v2's own values (not XttsArgs' defaults): 1026 audio codes, perceiver.
        gpt_num_audio_tokens=1026,
        gpt_start_audio_token=1024,
        gpt_stop_audio_token=1025,
        gpt_use_masking_gt_prompt_approach=True,
        gpt_use_perceiver_resampler=True,
        gpt_code_stride_len=1024,
        input_sample_rate=22050,
        output_sample_rate=24000,
        output_hop_length=256,
        decoder_input_dim=dim,
        d_vector_dim=512,
        cond_d_vector_in_each_upsampling_layer=True,
    )
    config = XttsConfig(model_args=args, audio=XttsAudioConfig())
    config.model_args.tokenizer_file = ""  # load_checkpoint reads <dir>/vocab.json
    model = Xtts(config)
    _widen(model, dim)
    torch.save({"model": model.state_dict()}, out / "model.pth")
    config.save_json(str(out / "config.json"))
    speakers = {
        name: {
            "gpt_cond_latent": torch.randn(1, 32, dim),
            "speaker_embedding": torch.nn.functional.normalize(torch.randn(1, 512, 1), dim=1),
        }
        for name in SPEAKERS
    }
    torch.save(speakers, out / "speakers_xtts.pth")
    return out
