"""Computer vision in the core (no Kivy): finding, straightening and cleaning up document
pages in camera frames, and reading QR and bar codes.

- ``geometry``: corner ordering, quad areas and IoU.
- ``detect``: the page outline (quadrilateral) in a frame, or None — never a guess.
- ``rectify``: perspective correction to A4, ID card or the page's own aspect; deskew.
- ``enhance``: shadow removal, contrast, a clean "scan" look that keeps stamps and photos.
- ``output``: JPEG and PDF files at a DPI and under a size cap.
- ``capture``: auto/manual capture, several pages per material, retake.
- ``codes``: the QR/barcode pipeline (zxing-cpp + zbar, preprocessing, text decoding).
"""
