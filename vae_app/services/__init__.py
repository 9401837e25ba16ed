"""What the app runs besides drawing pages, free of Streamlit: background training jobs shared by
every browser session, uploaded pictures read safely, and MNIST-style digit preprocessing."""
