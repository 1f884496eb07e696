"""The password forms that User Details and one's own account share: a reset, and one's own change."""

from flask_wtf import FlaskForm
from wtforms import PasswordField
from wtforms.validators import EqualTo, InputRequired, Length


class SetPasswordForm(FlaskForm):
    """A new password, typed twice (the rules of a good one are the service's)."""

    password = PasswordField("New password", validators=[
        InputRequired("Enter the new password."), Length(max=200)])
    password_confirm = PasswordField("New password again", validators=[
        EqualTo("password", "The two passwords differ.")])

    def problems(self):
        """Return {field: first error} for the template's fields."""
        return {name: errors[0] for name, errors in self.errors.items()}


class ChangePasswordForm(SetPasswordForm):
    """One's own new password, which needs the current one."""

    current_password = PasswordField("Current password", validators=[
        InputRequired("Enter your current password."), Length(max=200)])
