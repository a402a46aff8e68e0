"""CD5220-style customer displays (two lines of 20 characters)."""
from __future__ import annotations

from marshmallow import fields, validate

from plugins.devices.codecs import cd5220
from plugins.devices.codecs import text as ctext
from plugins.devices.drivers.base import Driver, PortSettingsSchema
from plugins.devices.i18n import _l


class DisplaySettings(PortSettingsSchema):
    code_page = fields.String(load_default="cp858", validate=validate.OneOf(sorted(cd5220.CODE_PAGE_NUMBERS)),
                              metadata={"label": _l("Page de code")})
    width = fields.Integer(load_default=20, validate=validate.Range(min=16, max=40),
                           metadata={"label": _l("Caractères par ligne")})
    welcome = fields.String(load_default="Bienvenue", validate=validate.Length(max=40),
                            metadata={"label": _l("Message d'accueil")})


class Cd5220Display(Driver):
    key = "cd5220"
    kind = "display"
    label = _l("Afficheur client CD5220")
    settings_schema = DisplaySettings

    def status(self, port, settings, payload):
        return {"online": True}  # a display never answers: the port opening is all we can know

    def show(self, port, settings, payload):
        lines = [str(x) for x in (payload.get("lines") or ["", ""])][:2] + [""]
        port.write(cd5220.encode_show(lines[0], lines[1], settings["code_page"], settings["width"]))
        cp, width = settings["code_page"], settings["width"]
        return {"shown": [cd5220.fit(ctext.printable(line, cp), width) for line in lines[:2]]}

    def clear(self, port, settings, payload):
        port.write(cd5220.encode_clear())
        return {"shown": ["", ""]}

    def test(self, port, settings, payload):
        return {"show": self.show(port, settings, {"lines": [settings["welcome"], "Test — 12,50 €"]})}


CD5220_DISPLAY = Cd5220Display()
