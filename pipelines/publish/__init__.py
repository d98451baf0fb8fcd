"""Stage `publish`: the warehouse swap, feedback workbooks, exports, the summary and the reports."""
