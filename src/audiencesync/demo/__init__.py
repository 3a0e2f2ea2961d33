"""The demo: quickstart on embedded defaults and the printed client walkthrough."""
