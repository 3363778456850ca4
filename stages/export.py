"""DVC stage `export`: the default model (the frame tracker) as ONNX with its metadata → exported/tracker.onnx and
exported/tracker.json, for runtimes without TensorFlow."""

from pitchpipe import stage


def main() -> None:
    parser = stage.parser(__doc__)
    parser.add_argument("--model", default="tracker")
    parser.add_argument("--out", default="exported")
    args = parser.parse_args()
    from pitchpipe.model.onnx_export import export_model  # imports TensorFlow

    print(f"export: {export_model(args.model, args.out, 'tracker')}")


if __name__ == "__main__":
    stage.run(main)
