// tandem-bench: measurements driven by the scripts in bench/.
print("usage: tandem-bench <scenario>")
