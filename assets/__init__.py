"""Files: storage backends, inspection, text extraction, thumbnails and deck assembly."""
