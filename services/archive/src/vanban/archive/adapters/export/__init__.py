"""Exports of a dossier (BagIt bag, E-ARK-style SIP, one PDF) and the archive's records as PDF
(handover, disposition). Builders take plain values (`model`) and a reader of registered bytes;
they know nothing of the database or the store."""
