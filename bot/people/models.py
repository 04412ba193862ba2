from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot import clock
from bot.db import Base, UTCDateTime


class Role(StrEnum):
    RESIDENT = "resident"
    MEMBER = "member"  # of a working group; derived from membership
    COMMITTEE = "committee"  # of the steering committee; derived from membership
    STAFF = "staff"  # backbone organisation


# Roles stored on the person; the others follow from group membership.
GRANTED_ROLES = (Role.RESIDENT, Role.STAFF)


class Person(Base):
    __tablename__ = "person"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # NULL once the person has used /forget: the row stays so anonymised answers keep their shape.
    telegram_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    display_name: Mapped[str | None] = mapped_column(String(128))
    username: Mapped[str | None] = mapped_column(String(64))
    # NULL until the person chooses; until then Telegram's language_code decides.
    language: Mapped[str | None] = mapped_column(String(2))
    area: Mapped[str | None] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    consented_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    opted_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    unreachable_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    forgotten_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # «I'm away»: no check-in rounds until the person says they are back, or until away_until
    # (the start of the day they said they would be back), when the check-in clock brings them
    # back by itself.
    away_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    away_until: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # Every update needs the person's roles, which are read with the person in one statement
    # (people.service.find); the rows themselves, like tags, are loaded when asked for
    # (people.service.loaded), never behind the code's back.
    role_grants: Mapped[list[PersonRole]] = relationship(
        back_populates="person", cascade="all, delete-orphan", lazy="raise_on_sql"
    )
    tag_links: Mapped[list[PersonTag]] = relationship(
        back_populates="person", cascade="all, delete-orphan", lazy="raise_on_sql"
    )

    @property
    def tags(self) -> list[str]:
        return sorted(link.tag for link in self.tag_links)


class PersonRole(Base):
    __tablename__ = "person_role"

    person_id: Mapped[int] = mapped_column(
        ForeignKey("person.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(16), primary_key=True)
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    person: Mapped[Person] = relationship(back_populates="role_grants")


class PersonTag(Base):
    """Free tags for targeted engagement (e.g. «youth», «shopkeepers»)."""

    __tablename__ = "person_tag"

    person_id: Mapped[int] = mapped_column(
        ForeignKey("person.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(32), primary_key=True, index=True)

    person: Mapped[Person] = relationship(back_populates="tag_links")
