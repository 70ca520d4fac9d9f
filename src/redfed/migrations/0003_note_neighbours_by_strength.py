from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0002_drop_explore_sessions')]

    initial = False

    operations = [
        ops.AlterModelOptions(
            name='AuthorEngagement',
            options={'table': 'feed_author_engagement', 'app': 'models', 'pk_attr': 'id', 'table_description': "Decayed local engagement of one author's notes over months, their reach (for damping"},
        ),
        ops.AddIndex(
            model_name='NoteNeighbour',
            index=Index(fields=['note_id', 'score', 'neighbour_id']),
        ),
    ]
