"""The models: Keras architectures and heads, training, the saved format (Keras to train, ONNX to serve), the
frame tracker's streaming model, the learned-STFT experiment."""
