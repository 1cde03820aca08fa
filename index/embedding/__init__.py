"""The sentence encoder: ONNX Runtime, sentence-transformers, Ray."""
