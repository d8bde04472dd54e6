"""Several XTTS sentences through one GPT generation: left-padded prefixes and a padding mask.

coqui-tts generates one text at a time: ``GPT.compute_embeddings`` appends the stop token to the
text and stores one prefix (conditioning latent + text embedding) for the whole batch, so texts
of different lengths cannot share a call, and right-padding them makes the model read padding
as speech (coqui-ai/TTS#3776). Here each row's prefix is built exactly as coqui builds it, the
rows are padded on the *left* and the padding is masked out of attention, so every row sees the
same sequence it would see alone: XTTS's GPT has no absolute positions (``wpe`` is null; text
and audio positions are learned per segment), and the audio position of each new token comes
from the shared cache length, which left-padding keeps equal across rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F


def prefix_embedding(gpt: Any, latent: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
    """One row's GPT prefix, ``[conditioning latent, START text STOP]`` (as compute_embeddings)."""
    tokens = F.pad(tokens, (0, 1), value=gpt.stop_text_token)
    tokens = F.pad(tokens, (1, 0), value=gpt.start_text_token)
    text = gpt.text_embedding(tokens) + gpt.text_pos_embedding(tokens)
    return torch.cat([latent, text], dim=1)[0]


def padded_batch(
    gpt: Any, prefixes: Sequence[torch.Tensor]
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Prefix embeddings padded on the left, generate's input ids, and the attention mask."""
    width = max(len(prefix) for prefix in prefixes)
    rows, dim = len(prefixes), prefixes[0].shape[-1]
    device = prefixes[0].device
    embeddings = torch.zeros(rows, width, dim, dtype=prefixes[0].dtype, device=device)
    mask = torch.zeros(rows, width + 1, dtype=torch.long, device=device)
    for row, prefix in enumerate(prefixes):
        embeddings[row, width - len(prefix) :] = prefix
        mask[row, width - len(prefix) :] = 1
    # The ids under the prefix are placeholders (1, as coqui's); only the last one, START, is read.
    inputs = torch.ones(rows, width + 1, dtype=torch.long, device=device)
    inputs[:, -1] = gpt.start_audio_token
    return embeddings, inputs, mask


def generate_codes(
    gpt: Any, prefixes: Sequence[torch.Tensor], **sampling: Any
) -> list[torch.Tensor]:
    """The audio codes of each prefix, cut after its own stop token, from one generate call."""
    embeddings, inputs, mask = padded_batch(gpt, prefixes)
    gpt.gpt_inference.store_prefix_emb(embeddings)
    start = inputs.shape[1]
    out = gpt.gpt_inference.generate(
        inputs,
        attention_mask=mask,
        bos_token_id=gpt.start_audio_token,
        pad_token_id=gpt.stop_audio_token,
        eos_token_id=gpt.stop_audio_token,
        max_length=gpt.max_gen_mel_tokens + start,
        **sampling,
    )
    result = []
    for row in out[:, start:]:
        stops = (row == gpt.stop_audio_token).nonzero()
        # Alone, a row ends with its stop token (when it emitted one); rows that stopped early are
        # padded with more stop tokens here, which must not reach the decoder.
        end = int(stops[0]) + 1 if len(stops) else len(row)
        result.append(row[:end])
    return result
