"""The model registry's vocabularies (paradigm, task), defined once for the models and the demo. No Django."""

from __future__ import annotations

# value -> label, in the order the registry lists them.
PARADIGMS: dict[str, str] = {
    "joint": "joint audio-video",
    "video-first+dubbing": "video-first + dubbing",
    "modular-agentic": "modular / agentic",
}
TASKS: dict[str, str] = {
    "T2AV": "text to audio-video",
    "TI2AV": "text + image to audio-video",
    "R2AV": "reference to audio-video",
}
