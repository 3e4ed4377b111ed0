"""The stages of one repository run, in the order :mod:`~ecr_archiver.archiving.worker` calls them.

1. :mod:`.redelivery`: a message an earlier delivery already handled returns that result.
2. :mod:`.preview`: the preview page the cursor points at, restarting a preview that is not ready.
3. :mod:`.index_phase`: every live index is decided (and archived) before any other image.
4. :mod:`.image_phase`: the preview is streamed page by page, the next page read ahead.
5. :mod:`.pages`: one page's results go through :mod:`.guard` (with the details of
   :mod:`.listing`) and the allowed ones into :mod:`.archive_pool`; :mod:`.records` counts them.
6. :mod:`.outcome`: the report, the metrics, the continuation message.

:mod:`.ports` holds what the worker is handed, :mod:`.reads` how a failed read is told apart.
"""
