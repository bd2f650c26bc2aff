"""The listening centre: the Streamlit dashboard.

``main`` is Streamlit's entry file (it only builds the navigation), ``views/`` one file
per page, ``common`` what the pages share (store, config, window, sign-in), ``serve``
what ``listening serve`` runs. Only this package imports Streamlit.
"""
