"""The models: Keras architectures and heads, training, the saved format and its numpy runtime, the
frame tracker's streaming model, the learned-STFT experiment."""
