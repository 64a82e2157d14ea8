"""Torch device handling shared by the deep hashers and the image feature extractors."""


def resolve_device(device):
    """Turn ``"auto"`` (CUDA when available, else CPU) or a device name into a torch.device.

    Imports torch only when called, so callers that import torch lazily stay lazy.
    """
    import torch

    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, ValueError) as exc:
        raise ValueError(
            f"device={device!r} is not a torch device; use 'auto', 'cpu', 'cuda' or 'cuda:N'."
        ) from exc
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"device={device!r} asks for CUDA, but torch finds no CUDA device "
            f"(torch.cuda.is_available() is False); use device='cpu' or 'auto'."
        )
    return resolved
