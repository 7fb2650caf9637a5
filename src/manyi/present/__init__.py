"""Presentation: charts (plotly), tables and summaries of results, rendered for a terminal,
HTML or JSON in a language of the catalogues. The command line uses it now; the web app and
the report use the same functions — one implementation of each chart.

* :mod:`manyi.present.charts`: ``chart(result, lang_or_translator, part=None)``, one
  function per result kind (:data:`~manyi.present.charts.CHARTS`);
* :mod:`manyi.present.terminal`: Rich tables (scorecard, analyses, PLS) and
  ``display_tables`` (codes given their names);
* :mod:`manyi.present.json`: the JSON text of a result document;
* :mod:`manyi.present.theme`: the house style.
"""
