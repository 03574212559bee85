"""Personal data, sealed per data subject and erasable by crypto-shredding (see README.md)."""

from paygod.privacy.model import DataClass, LegalHold, RetentionPolicy, SubjectKey, VaultRecord

__all__ = ["DataClass", "LegalHold", "RetentionPolicy", "SubjectKey", "VaultRecord"]
