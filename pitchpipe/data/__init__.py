"""The data stages' library: rendering, preparing, synthesizing and featurizing notes, the probe set, the
melodies and their frame features. Built on pitchpipe.sound."""
