"""Text output, one module per command family. Commands parse options and call the library, which returns data;
these modules turn that data into the lines a person reads (`to_json()` on the same objects gives `--json`).

`text` (sizes, tables) imports nothing of the CLI, so library messages may use it; the others take the `App`."""
